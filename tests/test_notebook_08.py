"""Chapter 08 on the smoke profile: tuning starts from chapter 07's base and leaves NLI out."""

import json

import pytest


@pytest.mark.notebook
def test_tuning_chapter_starts_from_the_base_and_holds_out_nli(run_smoke):
    base = run_smoke("07_pretraining")  # the base run this profile names
    run = run_smoke("08_instruction_tuning")
    metrics = run.metrics()
    assert "nli" not in metrics["tuning_clusters"]
    assert "paraphrase" not in metrics["tuning_clusters"]  # removed with NLI
    assert len(metrics["tuning_clusters"]) == 10
    assert metrics["base_step"] == base.metrics()["resumed_at_step"] == 20
    log = [json.loads(line) for line in (run.path / "train_log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in log] == list(range(1, 11))
    assert 0 < metrics["target_tokens_seen"] < metrics["tokens_seen"]  # inputs carry no loss
    assert metrics["final_loss"] < metrics["first_loss"]
    # Tuning on the mixture lowers the loss on its own validation examples.
    assert metrics["held_in_loss_tuned"] < metrics["held_in_loss_base"]
    assert metrics["held_out_loss_base"] > 0 and metrics["held_out_loss_tuned"] > 0
    assert (run.path / "checkpoints" / "10").is_dir()
    for name in ("loss_nli", "target_loss_nli", "tokens_seen_nli"):
        assert (run.path / "figures" / "08_instruction_tuning" / f"{name}.svg").is_file()


@pytest.mark.parametrize("values, message", [
    ({"HELD_OUT": "poetry"}, "unknown cluster 'poetry'"),
    ({"SEQ_LENGTH": 128}, "shorter than the longest example after truncation"),
    ({"SOURCE": "web"}, "unknown source 'web'"),
    ({"MESH_FSDP": -1, "MESH_DATA": -1}, "one of them may be -1"),
    ({"HELD_OUT": "nli,poetry"}, "unknown cluster 'poetry'"),
    ({"HELD_OUT": ""}, "HELD_OUT names no cluster"),
    ({"TUNING_CLUSTERS": "paraphrase"}, "cannot be tuned on while nli is held out"),
    ({"FORMAT": "haiku"}, "FORMAT must be one of"),
    ({"FORMAT": "few-shot"}, "FORMAT must be one of"),
    ({"NUM_TEMPLATES": 11}, "has 10 templates: choose 0"),
    ({"NUM_TEMPLATES": 2, "FORMAT": "no-template"}, "has none"),
    ({"OPTIONS_SUFFIX": "no"}, "OPTIONS_SUFFIX must be True or False"),
    ({"OPTIONS_SUFFIX": False, "FORMAT": "no-template"}, "OPTIONS_SUFFIX = False removes"),
    ({"OPTIONS_SUFFIX": False, "FEW_SHOT_FRACTION": 0.5}, "set FEW_SHOT_FRACTION = 0"),
    ({"DATASETS_PER_CLUSTER": 9}, "the largest tuning cluster has"),
    ({"NUM_TUNING_TASKS": 9, "DATASETS_PER_CLUSTER": 1}, "draws its own tasks"),
])
def test_bad_tuning_parameters_fail_before_anything_runs(values, message):
    from flan_nb.chapters import book_config
    from flan_nb.errors import UserError

    with pytest.raises(UserError, match=message):
        book_config("08_instruction_tuning", **{k.lower(): v for k, v in values.items()})


FIGURE6_HELD_OUT = "nli,closed_book_qa,commonsense"


def test_several_held_out_clusters_and_chosen_tuning_clusters():
    from flan_nb import tasks
    from flan_nb.chapters import book_config

    config = book_config("08_instruction_tuning", held_out=FIGURE6_HELD_OUT,
                         tuning_clusters="summarization,translation")
    split = config.tuning_split()
    assert config.held_out_label == "nli+closed_book_qa+commonsense"
    assert {tasks.get(n).cluster for n in split.train} == {"summarization", "translation"}
    assert {tasks.get(n).cluster for n in split.eval} == {"nli", "closed_book_qa",
                                                          "commonsense"}


def test_datasets_per_cluster_keeps_the_first_of_each_cluster():
    from flan_nb import tasks
    from flan_nb.chapters import book_config

    every = book_config("08_instruction_tuning", held_out=FIGURE6_HELD_OUT).tuning_split()
    config = book_config("08_instruction_tuning", held_out=FIGURE6_HELD_OUT,
                         datasets_per_cluster=1)
    kept = config.tuning_split().train
    clusters = [tasks.get(n).cluster for n in kept]
    assert len(clusters) == len(set(clusters)) == len(every.train_clusters)
    for name in kept:  # the first dataset of its cluster, in registry order
        cluster = tasks.get(name).cluster
        assert name == next(n for n in every.train if tasks.get(n).cluster == cluster)


@pytest.mark.parametrize("fmt", ["no-template", "dataset-name"])
def test_ablation_formats_have_one_rendering_and_no_instruction(fmt):
    from flan_nb import formats, tasks
    from flan_nb.chapters import book_config

    config = book_config("08_instruction_tuning", format=fmt)
    assert config.num_templates_of(["tw_rte", "tw_squad"]) == {"tw_rte": 1, "tw_squad": 1}
    fields = tasks.load_examples("tw_rte", "train", size="smoke")[0]
    rendered = config.render("tw_rte", fields, 5)
    assert rendered == formats.render_format(fmt, tasks.get("tw_rte"), fields)
    assert rendered.inputs.startswith("[") == (fmt == "dataset-name")
    flan = [tasks.get("tw_rte").render(fields, t).inputs for t in range(10)]
    assert rendered.inputs not in flan


def test_without_the_options_suffix_prompts_keep_their_choices_but_never_list_them():
    from flan_nb import formats, tasks
    from flan_nb.chapters import book_config

    config = book_config("08_instruction_tuning", options_suffix=False)
    assert config.num_templates_of(["tw_rte"]) == {"tw_rte": len(tasks.get("tw_rte").templates)}
    spec = tasks.get("tw_rte")
    for fields in tasks.load_examples("tw_rte", "train", size="smoke")[:3]:
        for template_id in range(len(spec.templates)):
            plain, with_list = config.render("tw_rte", fields, template_id), spec.render(
                fields, template_id)
            assert plain == formats.without_options(spec, fields, template_id)
            assert "OPTIONS" not in plain.inputs and plain.targets == with_list.targets
            assert plain.options == with_list.options  # rank classification still has them
            if with_list.options:
                assert len(plain.inputs) < len(with_list.inputs)


def test_num_templates_limits_the_template_ids_the_mixture_draws():
    from flan_nb.chapters import book_config
    from flan_nb.tokenize import tinyworld_tokenizer

    config = book_config("08_instruction_tuning", num_templates=2, size="smoke", seed=3)
    assert config.num_templates_of(["tw_rte"]) == {"tw_rte": 2}
    pipe = config.batches(["tw_rte", "tw_squad"], tinyworld_tokenizer(vocab_size=500,
                                                                      size="smoke"))
    drawn = {sample.template_id for sample in pipe.mixture.take(200)}
    assert drawn == {0, 1}
