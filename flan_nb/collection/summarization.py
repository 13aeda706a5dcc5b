"""Summarization cluster: AESLC, AG News, CNN-DM, Gigaword, Multi-News, Newsroom, SamSum,
Wiki Lingua EN, XSum and Opinion-Abstracts (iDebate, Rotten Tomatoes movies).

All but AG News are generation tasks scored with ROUGE: the inputs hold the document, the target
is the reference summary. Their turned-around templates (two per dataset) give the summary and ask
for the document (or, for the opinion datasets, one supporting argument or review). AG News sits in
this cluster in the paper but is a four-way topic classification, so it is a classification task
with the options World / Sports / Business / Science-Tech, scored by accuracy; its turned-around
templates write a headline or an opening paragraph for a given topic.

Rules for awkward inputs: Multi-News joins its source articles with `|||||`, which becomes a blank
line; the opinion datasets list their arguments / critics' quotes as key-value pairs, kept in TFDS
order (the first quote is the target of the turned-around review template). Opinion-Abstracts has
only a `train` split in TFDS, so its last 10% is held out for validation. Examples with an empty
document or summary are dropped (`to_fields` returns None). Newsroom, SamSum and XSum must be
downloaded by hand before `tfds build`; `manual_download` says how.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from flan_nb.collection._common import (TRAIN_VALIDATION_TEST, manual_instructions, pick, t,
                                        text, texts, tfds_spec, turned)

AG_NEWS_OPTIONS: tuple[str, ...] = ("World", "Sports", "Business", "Science-Tech")  # TFDS order
OPINION_SPLITS = {"train": "train[:90%]", "validation": "train[90%:]"}
AG_NEWS_SPLITS = {"train": "train", "validation": "test"}  # TFDS has no validation split


def sequence_column(sequence: Any, key: str) -> list[str]:
    """One string column of a TFDS `Sequence({...})` feature.

    TFDS returns such a feature as a dict of columns; hand-written data may use a list of dicts.
    """
    if isinstance(sequence, Mapping):
        return texts(sequence[key])
    return [text(item[key]) for item in sequence]


def _fields(**columns: str) -> Callable[[Mapping[str, Any]], dict | None]:
    """A `to_fields` copying TFDS string features to fields: `field=feature_name`."""

    def to_fields(example: Mapping[str, Any]) -> dict | None:
        fields = {field: text(example[feature]) for field, feature in columns.items()}
        return fields if all(fields.values()) else None

    return to_fields


def _summary_spec(name: str, title: str, tfds_name: str, templates, to_fields, example: dict,
                  description: str, splits: Mapping[str, str] = TRAIN_VALIDATION_TEST,
                  manual_download: str | None = None) -> None:
    tfds_spec(name, "summarization", title=title, tfds_name=tfds_name, kind="generation",
              metric="rouge",
              templates=templates, to_fields=to_fields, splits=splits, example=example,
              manual_download=manual_download, description=description)


# --- AESLC: e-mail bodies and their subject lines ------------------------------------------
_summary_spec(
    "aeslc", "AESLC", "aeslc:1.0.0",
    templates=(
        t("{body}\n\nWrite a subject line for this email.", "{subject}"),
        t("What is a good subject line for the following email?\n\n{body}", "{subject}"),
        t("Email:\n{body}\n\nSubject:", "{subject}"),
        t("Summarize this email in a few words, the way its subject line would:\n{body}",
          "{subject}"),
        t("I am about to send this message:\n\n{body}\n\nSuggest a short subject for it.",
          "{subject}"),
        t("Read the email below and give it a title.\n\n{body}", "{subject}"),
        t("{body}\n\nWhat is this email about, in under ten words?", "{subject}"),
        t("Here is the body of an email: {body}\nA fitting subject line would be:", "{subject}"),
        turned('Write an email with the subject line "{subject}".', "{body}"),
        turned("Subject: {subject}\n\nCompose the body of this email.", "{body}"),
    ),
    to_fields=_fields(body="email_body", subject="subject_line"),
    example={"email_body": "Hi team, the quarterly review moves to Thursday at 3pm in room "
                           "4B. Please bring your updated numbers.",
             "subject_line": "Quarterly review moved to Thursday"},
    description="AESLC: write the subject line of an e-mail (Enron corpus).",
)


# --- AG News: topic classification of news headlines and leads -----------------------------
def _ag_news_fields(example: Mapping[str, Any]) -> dict | None:
    if int(example["label"]) < 0:
        return None
    return {"title": text(example["title"]), "description": text(example["description"]),
            "answer": pick(AG_NEWS_OPTIONS, example["label"])}


tfds_spec(
    "ag_news", "summarization", title="AG News", tfds_name="ag_news_subset:1.0.0",
    kind="classification",
    metric="accuracy", options=AG_NEWS_OPTIONS, splits=AG_NEWS_SPLITS,
    templates=(
        t("{title}\n\n{description}\n\nWhich topic is this news article about?", "{answer}"),
        t("What is the best newspaper section for this story?\n\n{title}. {description}",
          "{answer}"),
        t("Classify the topic of this headline and lead: {title} -- {description}", "{answer}"),
        t("Article: {description}\nTopic:", "{answer}"),
        t("{description}\n\nIs this text about world news, sports, business, or science and "
          "technology?", "{answer}"),
        t("Choose the category of the following news item.\n\nHeadline: {title}\n"
          "Text: {description}", "{answer}"),
        t('Here is a news snippet: "{description}" What is it mostly about?', "{answer}"),
        t("Headline: {title}\n\nWhat kind of news is this?", "{answer}"),
        turned('Write the opening lines of a {answer} news story titled "{title}".',
               "{description}"),
        turned("{description}\n\nWrite a headline for this {answer} story.", "{title}"),
    ),
    to_fields=_ag_news_fields,
    example={"label": 3, "title": "New battery design doubles phone life",
             "description": "Engineers at a university lab say a silicon anode lets phone "
                            "batteries last two days on one charge."},
    description="AG News: the topic (World, Sports, Business, Science-Tech) of a news item; "
                "a classification task that the paper files under summarization.",
)


# --- CNN / Daily Mail: news articles and their bullet-point highlights ---------------------
_summary_spec(
    "cnn_dailymail", "CNN-DM", "cnn_dailymail:3.4.0",
    templates=(
        t("{article}\n\nWrite the highlights of this article.", "{highlights}"),
        t("Summarize this news story in a few bullet points:\n\n{article}", "{highlights}"),
        t("Article: {article}\n\nHighlights:", "{highlights}"),
        t("What are the main points of the following report?\n{article}", "{highlights}"),
        t("{article}\n\nGive a brief summary of the text above.", "{highlights}"),
        t("Read the news article below, then list its key facts.\n\n{article}",
          "{highlights}"),
        t("A busy reader only has time for the essentials. Condense this article for them:\n"
          "{article}", "{highlights}"),
        t("{article}\n\nIn short, what happened?", "{highlights}"),
        turned("Write a news article based on these highlights:\n{highlights}", "{article}"),
        turned("Here are the key points of a story:\n{highlights}\n\nWrite the full story.",
               "{article}"),
    ),
    to_fields=_fields(article="article", highlights="highlights"),
    example={"article": "A family dog that went missing during a storm was found safe three "
                        "days later, 20 miles from home. A farmer spotted the terrier in his "
                        "barn and called the number on its collar.",
             "highlights": "Terrier lost in a storm found 20 miles away.\n"
                           "A farmer called the number on its collar.",
             "publisher": "cnn", "id": "0001d1afc246a7964130f43ae940af6bc6c57f01"},
    description="CNN / Daily Mail: write the highlights of a news article.",
)


# --- Gigaword: first sentence of a news story -> its headline ------------------------------
_summary_spec(
    "gigaword", "Gigaword", "gigaword:1.2.0",
    templates=(
        t("{document}\n\nGive this news sentence a short headline.", "{summary}"),
        t("Shorten this sentence into a news headline: {document}", "{summary}"),
        t("Sentence: {document}\nHeadline:", "{summary}"),
        t("What is a brief summary of the following sentence?\n\n{document}", "{summary}"),
        t("{document}\n\nSum this up in a few words.", "{summary}"),
        t("Compress the following news sentence while keeping its meaning:\n{document}",
          "{summary}"),
        t('An editor needs a title for a story that opens with: "{document}" What title '
          "would fit?", "{summary}"),
        t("{document}\nWhat is the gist of this?", "{summary}"),
        turned('Write the opening sentence of a news story with the headline "{summary}".',
               "{document}"),
        turned("Headline: {summary}\n\nExpand this headline into a full sentence.",
               "{document}"),
    ),
    to_fields=_fields(document="document", summary="summary"),
    example={"document": "the city council voted on tuesday to extend the opening hours of "
                         "public libraries on weekends starting next month .",
             "summary": "council extends weekend library hours"},
    description="Gigaword: write a headline for the first sentence of a news story.",
)


# --- Multi-News: several articles on one event -> one summary -------------------------------
def _multi_news_fields(example: Mapping[str, Any]) -> dict | None:
    sources = [part.strip() for part in text(example["document"]).split("|||||")]
    fields = {"document": "\n\n".join(p for p in sources if p),
              "summary": text(example["summary"]).lstrip("– ").strip()}
    return fields if all(fields.values()) else None


_summary_spec(
    "multi_news", "Multi-News", "multi_news:2.1.0",
    templates=(
        t("Here are several news articles about one event:\n\n{document}\n\nWrite a summary "
          "that combines them.", "{summary}"),
        t("{document}\n\nSummarize what these reports say.", "{summary}"),
        t("Sources:\n{document}\n\nSummary:", "{summary}"),
        t("Several outlets covered the same story. Read their articles and write one "
          "overview.\n\n{document}", "{summary}"),
        t("What happened, according to the articles below?\n\n{document}", "{summary}"),
        t("{document}\n\nWrite a short news brief that draws on all of the articles above.",
          "{summary}"),
        t("Combine the following reports into a single concise story:\n{document}",
          "{summary}"),
        t("Give an overview of these news articles:\n{document}", "{summary}"),
        turned("Write the news coverage that this summary could have been based on:\n\n"
               "{summary}", "{document}"),
        turned("Summary: {summary}\n\nWhat might the original articles have said? Write "
               "them.", "{document}"),
    ),
    to_fields=_multi_news_fields,
    example={"document": "The bridge reopened on Monday after two years of repairs. ||||| "
                         "Drivers cheered as the first cars crossed the renovated bridge, "
                         "which had been closed since a crack was found in 2022.",
             "summary": "– The bridge is open again. After two years of repairs prompted by "
                        "a crack, the first cars crossed it on Monday."},
    description="Multi-News: summarize several news articles about the same event.",
)


# --- Newsroom: articles, their summaries and titles ----------------------------------------
_summary_spec(
    "newsroom", "Newsroom", "newsroom:1.0.0",
    templates=(
        t("{text}\n\nSummarize this article.", "{summary}"),
        t("Article title: {title}\n\n{text}\n\nWhat is the article's summary?", "{summary}"),
        t("Write a one- or two-sentence summary of the following news story.\n\n{text}",
          "{summary}"),
        t("Text: {text}\nSummary:", "{summary}"),
        t("{text}\n\nWhat is the main point of this piece?", "{summary}"),
        t("Briefly describe what this article is about.\n\n{title}\n{text}", "{summary}"),
        t("Here is a news story:\n{text}\n\nWrite a short teaser that tells readers what it "
          "is about.", "{summary}"),
        t("{text}\n\nGive this article a title.", "{title}"),
        turned('Write a news article titled "{title}" that matches this summary: {summary}',
               "{text}"),
        turned("Summary: {summary}\n\nWrite the article this summary describes.", "{text}"),
    ),
    to_fields=_fields(text="text", summary="summary", title="title"),
    example={"text": "Volunteers planted 3,000 trees along the river on Saturday, the "
                     "largest planting the town has organised.",
             "summary": "Volunteers planted 3,000 trees along the river.",
             "title": "Town plants 3,000 trees by the river",
             "url": "http://example.com/2016/04/trees", "date": "20160402",
             "density_bin": "extractive", "coverage_bin": "high",
             "compression_bin": "low", "density": 5.2, "coverage": 0.9,
             "compression": 2.1},
    manual_download=manual_instructions(
        "https://summari.es/download/",
        "train.jsonl, dev.jsonl and test.jsonl (registration required)"),
    description="Newsroom: summarize a news article (summaries written by the publishers).",
)


# --- SamSum: messenger conversations and their summaries -----------------------------------
_summary_spec(
    "samsum", "SamSum", "samsum:1.0.0",
    templates=(
        t("{dialogue}\n\nBriefly summarize this conversation.", "{summary}"),
        t("Summarize the chat below in one or two sentences.\n\n{dialogue}", "{summary}"),
        t("Dialogue:\n{dialogue}\n\nSummary:", "{summary}"),
        t("What did the people in this conversation talk about?\n\n{dialogue}", "{summary}"),
        t("{dialogue}\n\nWhat was said, in a nutshell?", "{summary}"),
        t("Here is a text message exchange:\n{dialogue}\n\nWrite a short recap for someone "
          "who missed it.", "{summary}"),
        t("Read the messages and state what the conversation settled.\n{dialogue}",
          "{summary}"),
        t("Conversation:\n{dialogue}\nWhat is the gist of it?", "{summary}"),
        turned("Write a short chat conversation that fits this summary: {summary}",
               "{dialogue}"),
        turned('{summary}\n\nWrite the messages that were exchanged, one per line, as '
               '"Name: message".', "{dialogue}"),
    ),
    to_fields=_fields(dialogue="dialogue", summary="summary"),
    example={"dialogue": "Ana: Are we still on for lunch?\nTom: Yes, 1pm at the noodle place."
                         "\nAna: Great, see you there.",
             "summary": "Ana and Tom will have lunch at the noodle place at 1pm.",
             "id": "13818513"},
    manual_download=manual_instructions(
        "https://arxiv.org/src/1911.12237v2/anc/corpus.7z",
        "corpus.7z, unpacked to train.json, val.json and test.json"),
    description="SamSum: summarize a messenger-style conversation.",
)


# --- Wiki Lingua (English): how-to articles and their summaries ----------------------------
_summary_spec(
    "wiki_lingua_en", "Wiki Lingua EN", "gem/wiki_lingua_english_en:1.1.0",
    templates=(
        t("{article}\n\nSummarize these instructions.", "{summary}"),
        t("Here is a how-to guide:\n\n{article}\n\nWhat are its main steps, in brief?",
          "{summary}"),
        t("Article: {article}\n\nSummary:", "{summary}"),
        t("Write a short summary of this step-by-step guide.\n{article}", "{summary}"),
        t("{article}\n\nWhat is this guide telling the reader to do?", "{summary}"),
        t("Condense the following instructions into a few sentences:\n{article}",
          "{summary}"),
        t("Someone asked how to do this and got a long answer:\n{article}\n\nGive them the "
          "short version.", "{summary}"),
        t("{article}\nThe steps in brief:", "{summary}"),
        turned("Write a detailed how-to article that this summary describes:\n{summary}",
               "{article}"),
        turned("Summary of a guide: {summary}\n\nExpand it into full instructions.",
               "{article}"),
    ),
    to_fields=_fields(article="source", summary="target"),
    example={"gem_id": "wiki_lingua_english_en-train-0",
             "gem_parent_id": "wiki_lingua_english_en-train-0",
             "source": "Fill a pot with water and bring it to a boil. Add the eggs gently "
                       "with a spoon. Cook them for nine minutes, then cool them in cold "
                       "water.",
             "target": "Boil water. Add the eggs and cook for nine minutes. Cool them.",
             "source_aligned": {"en": "Fill a pot with water and bring it to a boil."},
             "target_aligned": {"en": "Boil water."},
             "references": []},
    description="WikiLingua (English): summarize a WikiHow guide.",
)


# --- XSum: BBC articles and one-sentence summaries -----------------------------------------
_summary_spec(
    "xsum", "XSum", "xsum:1.1.0",
    templates=(
        t("{document}\n\nSummarize this article in one sentence.", "{summary}"),
        t("What is this BBC article about, in a single sentence?\n\n{document}", "{summary}"),
        t("Article: {document}\n\nOne-sentence summary:", "{summary}"),
        t("Write the introductory sentence that best sums up the story below.\n\n{document}",
          "{summary}"),
        t("{document}\n\nGive the short version.", "{summary}"),
        t("Read the text and write one line that captures its main point.\n{document}",
          "{summary}"),
        t("In one sentence, what happened according to this report?\n{document}",
          "{summary}"),
        t("{document}\nThis article in one sentence:", "{summary}"),
        turned("Write a news article that expands on this one-sentence summary: {summary}",
               "{document}"),
        turned("One-line summary: {summary}\n\nWhat could the full article have said?",
               "{document}"),
    ),
    to_fields=_fields(document="document", summary="summary"),
    example={"document": "The ferry service between the two islands will run twice a day "
                         "from May, the operator said. Islanders had campaigned for years for "
                         "a second daily crossing.",
             "summary": "A second daily ferry between the islands will start in May."},
    manual_download=manual_instructions(
        "https://github.com/EdinburghNLP/XSum/tree/master/XSum-Dataset",
        "xsum-extracts-from-downloads.tar.gz (made by the repository's download and "
        "extraction scripts)"),
    description="XSum: summarize a BBC article in one sentence.",
)


# --- Opinion-Abstracts: debate arguments -> claim; critics' reviews -> consensus -----------
def _idebate_fields(example: Mapping[str, Any]) -> dict | None:
    sentences = sequence_column(example["_argument_sentences"], "value")
    fields = {"topic": text(example["_debate_name"]),
              "arguments": " ".join(s for s in sentences if s),
              "claim": text(example["_claim"])}
    return fields if all(fields.values()) else None


_summary_spec(
    "opinion_abstracts_idebate", "Opinion-Abstracts iDebate", "opinion_abstracts/idebate:1.0.0",
    templates=(
        t("Debate topic: {topic}\n\nArgument:\n{arguments}\n\nWhat claim does this argument "
          "support?", "{claim}"),
        t("{arguments}\n\nState in one sentence the point being argued here.", "{claim}"),
        t('In a debate about "{topic}", someone made this argument:\n{arguments}\n\n'
          "Summarize it as a single claim.", "{claim}"),
        t("Write a headline-style claim for the following argument.\n\n{arguments}",
          "{claim}"),
        t("Topic: {topic}\nArgument: {arguments}\nClaim:", "{claim}"),
        t("{arguments}\n\nWhat is the main claim of this argument?", "{claim}"),
        t("Condense this debate argument about {topic} into one sentence:\n{arguments}",
          "{claim}"),
        t("Here is a paragraph from a debating website. What position does it take?\n\n"
          "{arguments}", "{claim}"),
        turned('Write an argument for the claim "{claim}" in a debate about {topic}.',
               "{arguments}"),
        turned("Claim: {claim}\n\nSupport this claim with a few sentences of reasoning.",
               "{arguments}"),
    ),
    to_fields=_idebate_fields, splits=OPINION_SPLITS,
    example={"_debate_name": "This house would ban homework in primary schools",
             "_claim_id": "1234",
             "_claim": "Homework takes time away from play, which young children need.",
             "_argument_sentences": {
                 "key": ["0", "1"],
                 "value": ["Children learn a great deal through unstructured play.",
                           "Hours of homework leave little time for it."]}},
    description="Opinion-Abstracts (iDebate): state the claim that a debate argument makes.",
)


def _movie_fields(example: Mapping[str, Any]) -> dict | None:
    reviews = [r for r in sequence_column(example["_critics"], "value") if r]
    if not reviews:
        return None
    fields = {"movie": text(example["_movie_name"]),
              "reviews": "\n".join(f"- {review}" for review in reviews),
              "first_review": reviews[0], "consensus": text(example["_critic_consensus"])}
    return fields if all(fields.values()) else None


_summary_spec(
    "opinion_abstracts_movie", "Opinion-Abstracts Movie", "opinion_abstracts/rotten_tomatoes:1.0.0",
    templates=(
        t("Movie: {movie}\n\nCritics said:\n{reviews}\n\nWrite the critics' consensus.",
          "{consensus}"),
        t("{reviews}\n\nSummarize what these critics think of {movie}.", "{consensus}"),
        t("Here are some reviews of {movie}:\n{reviews}\n\nWhat is the overall verdict?",
          "{consensus}"),
        t("Reviews:\n{reviews}\nConsensus:", "{consensus}"),
        t("Combine the following critics' quotes into a one-sentence consensus.\n\n{reviews}",
          "{consensus}"),
        t("{reviews}\n\nIn one sentence, how was this film received?", "{consensus}"),
        t("What do critics generally agree on about {movie}? Here are their reviews:\n"
          "{reviews}", "{consensus}"),
        t("Write a short critics' summary for {movie}, based on these reviews.\n\n{reviews}",
          "{consensus}"),
        turned('Critics\' consensus on {movie}: "{consensus}"\n\nWrite a short review by one '
               "of those critics.", "{first_review}"),
        turned("Write a one-sentence review of {movie} that agrees with this consensus: "
               "{consensus}", "{first_review}"),
    ),
    to_fields=_movie_fields, splits=OPINION_SPLITS,
    example={"_movie_name": "The Lighthouse Keeper", "_movie_id": "the_lighthouse_keeper",
             "_critic_consensus": "Slow but haunting, with a superb lead performance.",
             "_critics": {"key": ["critic_a", "critic_b"],
                          "value": ["The lead actor carries every quiet scene.",
                                    "It drags in the middle, yet the ending stays with you."]}},
    description="Opinion-Abstracts (Rotten Tomatoes): write the critics' consensus on a movie "
                "from its reviews.",
)
