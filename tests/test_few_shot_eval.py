"""Few-shot evaluation (Figure 9): exemplars come from the training split and never include the
evaluated example, prompts are pruned to the budget with what was cut counted, and a k larger
than a held-out training split fails before any run."""

import re

import numpy as np
import pytest
import yaml

from flan_nb import cli, evaluate, formats, results, runner, tasks
from flan_nb.errors import UserError
from notebook_workspace import notebook_workspace

PARAMS = ('HELD_OUT = "nli"  # cluster left out\nBASE_RUN = "base"  # the base run\n'
          'SEED = 0  # tuning seed\n')


def test_a_few_shot_cell_never_shows_the_example_it_evaluates():
    spec = tasks.get("tw_rte")
    pool = tasks.load_examples("tw_rte", "train", size="smoke")
    # evaluate the training examples themselves: the hardest case for "never the example"
    cell = evaluate.Cell("tw_rte", 0, "train", pool, "few-shot-3", pool, shot_seed=1)
    assert cell.shots == 3
    budget = formats.TokenBudget(formats.count_words, 10_000, unit="words")
    for fields in pool:
        own = spec.render(fields, 0)
        rendered = cell.render(spec, fields, budget)
        exemplars = rendered.inputs[:-len(own.inputs)]
        assert rendered.inputs.endswith(own.inputs) and rendered.targets == own.targets
        assert own.inputs not in exemplars  # the example is only the last part
        chosen = formats.select_exemplars(spec, fields, 0, pool, 3, seed=1)
        assert len(chosen) == 3 and all(c.inputs != own.inputs for c in chosen)
        assert exemplars == "".join(f"{c.inputs}{formats.INPUT_TARGET_DELIMITER}{c.targets}"
                                    f"{formats.EXEMPLAR_DELIMITER}" for c in chosen)
    assert budget.exemplars_kept == budget.exemplars_asked == 3 * len(pool)


def test_pruning_counts_what_it_cut():
    spec = tasks.get("tw_rte")
    pool = tasks.load_examples("tw_rte", "train", size="smoke")
    test = tasks.load_examples("tw_rte", "test", size="smoke")
    zero = max(formats.count_words(spec.render(f, 0).inputs) for f in test)
    budget = formats.TokenBudget(formats.count_words, zero + 5, unit="words")
    cell = evaluate.Cell("tw_rte", 0, "test", test, "few-shot-2", pool)
    for fields in test:
        assert formats.count_words(cell.render(spec, fields, budget).inputs) <= zero + 5
    assert budget.prompts == len(test) and budget.exemplars_kept < budget.exemplars_asked


def test_k_larger_than_the_training_split_is_one_clear_error():
    available = len(tasks.load_examples("tw_copa", "train", size="smoke"))
    with pytest.raises(UserError, match=f"k={available} is too large .* holds {available}"):
        evaluate.held_out_cells(["tw_copa"], num_templates=1, max_examples=2, size="smoke",
                                format=f"few-shot-{available}")
    cells = evaluate.held_out_cells(["tw_copa"], num_templates=1, max_examples=2,
                                    size="smoke", format=f"few-shot-{available - 1}")
    assert len(cells[0].pool) == available and cells[0].format.endswith(str(available - 1))
    with pytest.raises(UserError, match="few-shot-K"):
        formats.parse_eval_format("few-shot")


def test_evaluate_model_scores_few_shot_cells_under_their_budget_and_logs_it():
    from flan_nb.model import create_model, named_config
    from flan_nb.tokenize import tinyworld_tokenizer

    tokenizer = tinyworld_tokenizer(vocab_size=500, size="smoke")
    model = create_model(named_config("test", vocab_size=tokenizer.vocab_size), seed=0)
    zero = evaluate.held_out_cells(["tw_rte"], num_templates=1, max_examples=3,
                                   splits=("test",), size="smoke")
    few = evaluate.held_out_cells(["tw_rte"], num_templates=1, max_examples=3,
                                  splits=("test",), size="smoke", format="few-shot-2")
    log = {}
    settings = evaluate.EvalSettings(max_input_length=159, few_shot_max_input_length=120)
    scores = evaluate.evaluate_model(model, tokenizer, few + zero, model_name="base",
                                     settings=settings, prompt_log=log)
    assert [s.format for s in scores] == ["few-shot-2", "zero-shot"]
    assert log["few-shot-2"]["prompts"] == 3 and log["few-shot-2"]["max_input_tokens"] == 119
    assert log["few-shot-2"]["exemplars_asked"] == 6
    assert 0 <= log["few-shot-2"]["exemplars_kept"] <= 6
    alone = evaluate.evaluate_model(model, tokenizer, zero, model_name="base",
                                    settings=settings)
    assert alone[0].values == scores[1].values  # zero-shot is unchanged by the few-shot cells


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    nb_dir = notebook_workspace(tmp_path, monkeypatch, "08_instruction_tuning.ipynb", PARAMS)
    (tmp_path / "runs" / "base" / "checkpoints").mkdir(parents=True)
    return nb_dir


def write_plan(nb_dir, evaluation):
    plan = {"profile": "book", "notebooks_dir": ".",
            "steps": [{"notebook": "08_instruction_tuning.ipynb", "name": "tune-{HELD_OUT}",
                       "grid": {"HELD_OUT": ["nli"]}, "seeds": [0]}],
            "evaluation": evaluation}
    path = nb_dir / "toy.yaml"
    path.write_text(yaml.safe_dump(plan))
    return path


def expect_exit_2_before_any_run(capsys, plan_path, pattern):
    assert cli.main(["batch", str(plan_path), "--publish", "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and re.search(pattern, err), err
    assert not (runner.runs_dir() / "tune-nli-s0").exists()  # nothing ran


def test_a_plan_with_k_larger_than_a_training_split_fails_before_any_run(workspace, capsys):
    # nli's smallest TinyWorld training split at smoke size decides
    smallest = min(len(tasks.load_examples(d, "train", size="smoke"))
                   for d in ("tw_nli", "tw_rte", "tw_qnli"))
    plan = write_plan(workspace, {"size": "smoke", "probe_facts": 0, "shots": [1, smallest]})
    expect_exit_2_before_any_run(capsys, plan, rf"k={smallest} is too large")
    plan = write_plan(workspace, {"size": "smoke", "probe_facts": 0, "shots": [-1]})
    expect_exit_2_before_any_run(capsys, plan, "shots must be a list of integers >= 0")
