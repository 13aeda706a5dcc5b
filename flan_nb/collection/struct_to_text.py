"""Struct-to-text cluster: CommonGen, DART, E2E NLG and WebNLG (all from TFDS's GEM builder).

Each is a generation task scored with ROUGE: the inputs hold structured data (a concept set,
triples, a restaurant's attribute list), the target is a sentence that verbalises it. Two
turned-around templates per dataset go the other way: from the sentence back to the structure.

Multi-reference rule: the target is GEM's `target` feature, which is one reference per training
example (GEM repeats a data record once per reference) and the FIRST reference on evaluation
splits. CommonGen's test references are hidden, so it is evaluated on its validation split;
examples with an empty target are dropped (`to_fields` returns None). Triples are shown one per
line, led by a dash; E2E's `name[value]` attributes are also offered as readable `key: value`
pairs with camel-case keys split into words.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from flan_nb.collection._common import (TRAIN_VALIDATION, TRAIN_VALIDATION_TEST, t, text,
                                        texts, tfds_spec, turned)

_E2E_ATTRIBUTE = re.compile(r"\s*([^\[\],]+?)\s*\[([^\]]*)\]")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def bullet_lines(items: list[str]) -> str:
    """Items one per line, each led by a dash."""
    return "\n".join(f"- {item}" for item in items)


def e2e_attributes(meaning_representation: str) -> str:
    """`name[The Eagle], eatType[pub]` -> `name: The Eagle; eat type: pub`."""
    pairs = _E2E_ATTRIBUTE.findall(meaning_representation)
    return "; ".join(f"{_CAMEL.sub(' ', key).lower()}: {value}" for key, value in pairs)


def _gem_target(example: Mapping[str, Any]) -> str:
    """The GEM example's single target, else its first reference ("" when neither exists)."""
    target = text(example.get("target", ""))
    if not target and len(example.get("references", ())):
        target = texts(example["references"])[0]
    return target


def _struct_spec(name: str, title: str, tfds_config: str, templates, to_fields,
                 example: dict, splits: Mapping[str, str], description: str) -> None:
    tfds_spec(name, "struct_to_text", title=title, tfds_name=f"gem/{tfds_config}:1.1.0",
              kind="generation",
              metric="rouge", templates=templates, to_fields=to_fields, splits=splits,
              example=example, description=description)


# --- CommonGen: a set of concepts -> an everyday sentence using all of them -----------------
def _common_gen_fields(example: Mapping[str, Any]) -> dict | None:
    concepts, target = texts(example["concepts"]), _gem_target(example)
    if not concepts or not target:
        return None
    return {"concepts": ", ".join(concepts), "target": target}


_struct_spec(
    "common_gen", "CommonGen", "common_gen",
    templates=(
        t("Concepts: {concepts}\n\nWrite a sentence that uses all of these concepts.",
          "{target}"),
        t("Make up a sentence about an everyday scene using these words: {concepts}",
          "{target}"),
        t("{concepts}\n\nWhat sentence could contain all of the words above?", "{target}"),
        t("Generate a sentence that includes the following: {concepts}.", "{target}"),
        t("Words: {concepts}\nSentence:", "{target}"),
        t("Describe a situation in one sentence, mentioning each of these: {concepts}",
          "{target}"),
        t("Use every word in this list in a single natural sentence: {concepts}", "{target}"),
        t("Here is a set of ideas: {concepts}. Put them together in one sentence.",
          "{target}"),
        turned("{target}\n\nWhat are the key concepts in this sentence?", "{concepts}"),
        turned("List the main nouns and verbs of this sentence, separated by commas: "
               "{target}", "{concepts}"),
    ),
    to_fields=_common_gen_fields, splits=TRAIN_VALIDATION,
    example={"gem_id": "common_gen-train-0", "gem_parent_id": "common_gen-train-0",
             "concept_set_id": 0, "concepts": ["dog", "frisbee", "catch", "throw"],
             "target": "A man throws a frisbee and his dog jumps to catch it.",
             "references": []},
    description="CommonGen: write an everyday sentence that uses every concept in a set.",
)


# --- DART: open-domain triples -> text ------------------------------------------------------
def _dart_fields(example: Mapping[str, Any]) -> dict | None:
    triples, target = texts(example["tripleset"]), _gem_target(example)
    if not triples or not target:
        return None
    return {"triples": bullet_lines(triples), "target": target}


_struct_spec(
    "dart", "DART", "dart",
    templates=(
        t("Triples:\n{triples}\n\nWrite a sentence that expresses these facts.", "{target}"),
        t("Turn this data into a sentence:\n{triples}", "{target}"),
        t("{triples}\n\nDescribe the data above in plain English.", "{target}"),
        t("Data:\n{triples}\nSentence:", "{target}"),
        t("Here are some facts, each a subject, a relation and an object:\n{triples}\n\n"
          "Write them as one or two fluent sentences.", "{target}"),
        t("Produce a short text describing the following records.\n{triples}", "{target}"),
        t("What does this data say? Answer in a sentence.\n{triples}", "{target}"),
        t("{triples}\n\nGenerate text from this table data.", "{target}"),
        turned("{target}\n\nExtract the facts in this sentence as subject-relation-object "
               "triples.", "{triples}"),
        turned("Sentence: {target}\n\nWhat data could this sentence have been written "
               "from?", "{triples}"),
    ),
    to_fields=_dart_fields, splits=TRAIN_VALIDATION_TEST,
    example={"gem_id": "dart-train-0", "gem_parent_id": "dart-train-0", "dart_id": 0,
             "tripleset": ["Blue Harbor Cafe eatType coffee shop",
                           "Blue Harbor Cafe area riverside"],
             "subtree_was_extended": False, "target_sources": ["e2e"],
             "target": "Blue Harbor Cafe is a coffee shop by the riverside.",
             "references": []},
    description="DART: verbalise a set of open-domain subject-relation-object triples.",
)


# --- E2E NLG: a restaurant's attributes -> a description ------------------------------------
def _e2e_fields(example: Mapping[str, Any]) -> dict | None:
    mr, target = text(example["meaning_representation"]), _gem_target(example)
    if not mr or not target:
        return None
    return {"mr": mr, "attributes": e2e_attributes(mr), "target": target}


_struct_spec(
    "e2e_nlg", "E2E NLG", "e2e_nlg",
    templates=(
        t("Restaurant data: {mr}\n\nWrite a sentence describing this restaurant.",
          "{target}"),
        t("Attributes: {attributes}\n\nDescribe the restaurant in natural language.",
          "{target}"),
        t("{mr}\n\nTurn this meaning representation into a sentence.", "{target}"),
        t("Here are facts about a place to eat: {attributes}\n\nWrite a short description "
          "of it.", "{target}"),
        t("Data: {mr}\nText:", "{target}"),
        t("Write a sentence that mentions all of the following about a restaurant: "
          "{attributes}", "{target}"),
        t("Generate a description for a restaurant guide from these details.\n{mr}",
          "{target}"),
        t("{attributes}\n\nHow would a waiter describe this restaurant in one sentence?",
          "{target}"),
        turned("{target}\n\nExtract the restaurant's attributes from this sentence, "
               "written as name[value] pairs separated by commas.", "{mr}"),
        turned("Sentence: {target}\n\nWhat meaning representation does this sentence "
               "express?", "{mr}"),
    ),
    to_fields=_e2e_fields, splits=TRAIN_VALIDATION_TEST,
    example={"gem_id": "e2e_nlg-train-0", "gem_parent_id": "e2e_nlg-train-0",
             "meaning_representation": "name[The Copper Kettle], eatType[pub], "
                                       "priceRange[cheap], near[Riverside Park]",
             "target": "The Copper Kettle is a cheap pub near Riverside Park.",
             "references": []},
    description="E2E NLG: describe a restaurant from its attribute-value list.",
)


# --- WebNLG (English): DBpedia triples -> text ----------------------------------------------
def _web_nlg_fields(example: Mapping[str, Any]) -> dict | None:
    triples, target = texts(example["input"]), _gem_target(example)
    if not triples or not target:
        return None
    return {"triples": bullet_lines(triples), "category": text(example["category"]),
            "target": target}


_struct_spec(
    "web_nlg", "WebNLG", "web_nlg_en",
    templates=(
        t("Facts:\n{triples}\n\nWrite a short text that expresses these facts.", "{target}"),
        t("Topic: {category}\n{triples}\n\nDescribe these facts in a sentence or two.",
          "{target}"),
        t("{triples}\n\nPut the data above into words.", "{target}"),
        t("Data (subject | property | object):\n{triples}\nText:", "{target}"),
        t("Write one or two sentences that state all of these facts.\n{triples}", "{target}"),
        t("Here is some information from a knowledge base:\n{triples}\n\nWhat does it say, "
          "in plain English?", "{target}"),
        t("Category: {category}\nTriples:\n{triples}\n\nGenerate a description.", "{target}"),
        t("Turn these knowledge-graph triples into fluent text:\n{triples}", "{target}"),
        turned("{target}\n\nList the facts in this text as subject | property | object "
               "triples.", "{triples}"),
        turned("Text: {target}\n\nWhat knowledge-base entries does this text express?",
               "{triples}"),
    ),
    to_fields=_web_nlg_fields, splits=TRAIN_VALIDATION_TEST,
    example={"gem_id": "web_nlg_en-train-0", "gem_parent_id": "web_nlg_en-train-0",
             "input": ["Lake_Vale | country | Norway", "Lake_Vale | elevation | 412.0"],
             "category": "Place", "webnlg_id": "Id1",
             "target": "Lake Vale is in Norway, 412 metres above sea level.",
             "references": []},
    description="WebNLG (English): verbalise DBpedia subject | property | object triples.",
)
