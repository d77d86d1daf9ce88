"""Quotes: spans in curly, straight and mixed marks; speakers named after, before, or referred back to."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.enrichment.aliases import Canonical
from pipeline.enrichment.canonical import Resolved
from pipeline.enrichment.quote_rules import read_given_names, verb_forms
from pipeline.enrichment.quotes import QuoteRules, find_quotes, quoted_spans
from pipeline.enrichment.tables import DATA_DIR, read_toml

GIVEN_NAMES = read_given_names((DATA_DIR / "first_names.tsv").read_text(encoding="utf-8"))
RULES = QuoteRules.from_data(read_toml(DATA_DIR / "enrich_quotes.toml"), GIVEN_NAMES)
PEOPLE = ("Vladimir Putin", "Oleksiy Kuleba", "Ramzan Kadyrov", "Volodymyr Zelenskyy", "Dmitry Peskov")
SURFACES = {
    "Putin": "Vladimir Putin",
    "Oleksiy Kuleba": "Oleksiy Kuleba",
    "Ramzan Kadyrov": "Ramzan Kadyrov",
    "Zelensky": "Volodymyr Zelenskyy",
    "Dmitry Peskov": "Dmitry Peskov",
    "Telegram": "Telegram",
    "the Washington Post": "The Washington Post",
}


def entities_of(text: str) -> list[Resolved]:
    """Hand-made entity mentions (what the stage's NER and alias table provide)."""
    out = []
    for surface, name in SURFACES.items():
        for m in re.finditer(re.escape(surface), text):
            label = "PERSON" if name in PEOPLE else "ORG"
            nouns = ("newspaper",) if "Post" in name else ()
            out.append(Resolved(name, label, surface, m.start(), m.end(), Canonical(name, label, nouns=nouns)))
    return sorted(out, key=lambda r: r.start)


def speakers(text: str) -> list[tuple[str | None, str]]:
    return [(q.speaker, q.text) for q in find_quotes(text, entities_of(text), RULES)]


def test_speaker_named_after_the_quote() -> None:
    text = (
        "“The Kyiv region repelled the third Russian attack,” the head of the region, Oleksiy Kuleba said on Telegram."
    )
    assert speakers(text) == [("Oleksiy Kuleba", "The Kyiv region repelled the third Russian attack")]


def test_a_name_after_a_preposition_is_where_it_was_said_not_who_said_it() -> None:
    text = "Dmitry Peskov said in a statement on Telegram: “The talks will go on next week in Istanbul.”"
    assert speakers(text) == [("Dmitry Peskov", "The talks will go on next week in Istanbul.")]
    text = "The Kremlin said in a post on Telegram: “The talks will go on next week in Istanbul.”"
    assert speakers(text) == [(None, "The talks will go on next week in Istanbul.")]  # no table body: nobody


def test_speaker_after_a_dash() -> None:
    text = "“I have no fear of talks, but Putin is afraid of peace.” – Zelensky, responding to Putin’s refusal."
    assert speakers(text)[0][0] == "Volodymyr Zelenskyy"


def test_speaker_before_a_colon_and_mixed_marks() -> None:
    text = (
        "Chechen leader Ramzan Kadyrov writes on Telegram: 'If Russia had wanted, they could not have stepped back ”."
    )
    assert speakers(text) == [("Ramzan Kadyrov", "If Russia had wanted, they could not have stepped back")]


def test_pronoun_refers_back_to_the_last_person_named() -> None:
    text = "Ramzan Kadyrov criticised the army. He does so in a video on Telegram: “Nobody ordered a single step back.”"
    assert speakers(text)[0][0] == "Ramzan Kadyrov"


def test_an_organisation_referred_to_by_what_it_is() -> None:
    text = "Reports by the Washington Post said so. The incursion “derails efforts for a partial ceasefire,” the newspaper wrote."
    assert speakers(text)[0][0] == "The Washington Post"


def test_not_a_speaker_named_after_a_preposition() -> None:
    text = "“Emergency repair work is already underway,” the ministry said on the Telegram messenger."
    assert speakers(text) == [(None, "Emergency repair work is already underway")]


def test_quotes_of_one_sentence_share_the_speaker() -> None:
    text = (
        "“The operation is not connected with the formula”, it is “connected with the second summit” "
        "because “it is our plan”Zelensky said."
    )
    assert [s for s, _ in speakers(text)] == ["Volodymyr Zelenskyy"] * 3


def test_a_quote_over_several_paragraphs_is_one_quote() -> None:
    text = (
        "The command said: “Due to the activity of bombers, aviation is operating.\n\n"
        "“Fighter aircraft have been scrambled and radars are ready.\n\n“These actions are preventative.”"
    )
    [(_, quote)] = speakers(text)
    assert quote.startswith("Due to the activity") and quote.endswith("These actions are preventative.")


def test_a_passage_in_single_marks_reopened_each_paragraph_is_one_quote() -> None:
    # British and South African style: single marks, reopened at each paragraph, closed once
    text = (
        "Sentencing him, Judge Ann Lowe said: 'You presented yourself as a careful investor. It was a scheme.\n\n"
        "'The harm you caused is not only financial.'\n\nThe '90s were different, a victim said.\n\n"
        "'Nobody told us.\n\nWe found out later."
    )
    spans = quoted_spans(text)
    assert [text[s.text_start : s.text_end] for s in spans][:1] == [
        "You presented yourself as a careful investor. It was a scheme.\n\n'The harm you caused is not only financial."
    ]
    assert len(spans) == 1  # "'90s" is an apostrophe; a mark no paragraph closes is no quote


def test_apostrophes_and_short_scare_quotes_are_not_quotes() -> None:
    text = "Ukraine’s forum ‘Ukraine 2024. Independence’ opened; Poland called it “a preventive measure” and 'don't' mattered."
    assert speakers(text) == []


@given(st.text(alphabet=st.sampled_from(list("ab .,:\n“”‘’'\"–Zelensky said"))))
def test_arbitrary_text_never_breaks_and_spans_stay_inside(text: str) -> None:
    for span in quoted_spans(text):
        # an opening mark before the text, unless the scrape lost it (then the span starts with its text)
        assert 0 <= span.start <= span.text_start <= span.text_end <= span.end <= len(text)
        paragraph_start = text.rfind("\n", 0, span.start) + 1
        assert span.start < span.text_start or not text[paragraph_start : span.start].strip()
    for quote in find_quotes(text, entities_of(text), RULES):
        assert quote.text and all(word in text for word in quote.text.split())


# --- attribution read from the dependency parse (sentences with a quotation only) ----------------------------


@pytest.fixture(scope="module")
def parse():
    """spaCy's parser, as the stage loads it: the same model reduced to tok2vec + parser."""
    from pipeline.enrichment.model import load_parser

    parser = load_parser("en_core_web_sm")
    return lambda texts: list(parser.pipe(texts))


PARSED_PEOPLE = {
    "Lindsey Graham": "PERSON",
    "Graham": "PERSON",
    "Nancy Pelosi": "PERSON",
    "Pelosi": "PERSON",
    "Kaja Kallas": "PERSON",
    "Mark Rutte": "PERSON",
    "Anna Novak": "PERSON",
    "Novak": "PERSON",
    "Daily Courier": "ORG",
    "Ministry of Foreign Affairs (Russia)": "ORG",
    "Russian foreign ministry": "ORG",
    "Alexander Lukashenko": "PERSON",
    "Vladimir Soloviev": "PERSON",
    "Soloviev": "PERSON",
    "NATO": "ORG",
    "Ukrinform": "ORG",
    "ISW": "ORG",
    "Pentagon": "ORG",
    "Russia": "ORG",
}
CANONICAL = {
    "Graham": "Lindsey Graham",
    "Pelosi": "Nancy Pelosi",
    "Novak": "Anna Novak",
    "Russian foreign ministry": "Ministry of Foreign Affairs (Russia)",
}


def parsed_speakers(text: str, parse=None, rules: QuoteRules | None = None) -> list[str | None]:
    entities = []
    for surface, label in PARSED_PEOPLE.items():
        for m in re.finditer(rf"\b{re.escape(surface)}\b", text):
            if not any(e.start <= m.start() < e.end for e in entities):
                name = CANONICAL.get(surface, surface)
                entities.append(Resolved(name, label, surface, m.start(), m.end(), Canonical(name, label)))
    entities.sort(key=lambda r: r.start)
    return [q.speaker for q in find_quotes(text, entities, rules or RULES, parse)]


@pytest.mark.parametrize(
    "text, speaker",
    [
        ("“The border will stay open for everyone,” Graham said on Friday.", "Lindsey Graham"),
        ("“The border will stay open for everyone,” said Lindsey Graham.", "Lindsey Graham"),
        ("The border will stay open, according to Kaja Kallas: “We do not close doors on our friends.”", "Kaja Kallas"),
        ("Mark Rutte told reporters on Monday that “the alliance is ready for anything”.", "Mark Rutte"),
        ("Mark Rutte spoke to reporters on Monday: “The alliance is ready for anything.”", "Mark Rutte"),
        (
            "Anna Novak, a reporter for the Daily Courier, wrote: “Nobody here believes the ceasefire will hold.”",
            "Anna Novak",
        ),
        (
            "“Relations will be restored once the troops leave,” the Russian foreign ministry said in a statement.",
            "Ministry of Foreign Affairs (Russia)",
        ),
    ],
)
def test_named_speakers(text: str, speaker: str, parse) -> None:
    assert parsed_speakers(text, parse) == [speaker]


def test_a_pronoun_is_the_person_the_text_is_about_then_the_last_speaker(parse) -> None:
    text = (
        "Nancy Pelosi visited the border on Monday. “I don't think we need a new law for that,” she said.\n\n"
        "“They are a confidence builder for our allies in the region.”\n\n"
        "“We will come back next month with more help,” she added."
    )
    assert parsed_speakers(text, parse) == ["Nancy Pelosi"] * 3


@pytest.mark.parametrize(
    "text",
    [
        "ISW experts said that “Russian strategic objectives remain unchanged in the east”.",
        "“The troops will not stay long in the region,” Pentagon officials told reporters.",
        "Officials at the Pentagon said the troops “will not stay long in the region”.",
        "“The troops will not stay long in the region,” a spokesperson for the Pentagon said.",
        "“The troops will not stay long in the region,” said a Pentagon spokeswoman.",
    ],
)
def test_people_speaking_for_a_body_are_the_body(parse, text: str) -> None:
    assert parsed_speakers(text, parse) in (["ISW"], ["Pentagon"])


def test_a_court_officers_title_refers_back(parse) -> None:
    text = (
        "Sentencing on Wednesday, Magistrate Anna Novak said the posts were a campaign to stir up discontent.\n\n"
        "“The defendant chose to publish repeatedly, to a wide audience,” the magistrate said."
    )
    assert parsed_speakers(text, parse) == ["Anna Novak"]


def test_a_title_refers_back_but_an_unnamed_official_is_nobody(parse) -> None:
    text = (
        "Kaja Kallas spoke after the meeting. “We need to be ready for a long war,” the prime minister said.\n\n"
        "“There is no sign of a deal this year,” a senior official told the Daily Courier."
    )
    assert parsed_speakers(text, parse) == ["Kaja Kallas", None]


def recording(parse, seen: list[str]):
    """The parser, noting every text it is given in `seen`."""

    def parse_and_note(texts):
        seen.extend(texts)
        return parse(texts)

    return parse_and_note


def test_the_parser_reads_sentences_with_a_quotation_only(parse) -> None:
    seen: list[str] = []
    counting = recording(parse, seen)
    text = (
        "Graham met the delegation in the morning. It was a long day.\n\nAfter the meeting Graham said the "
        "country would “not give in to pressure from anyone” and left.\n\nThe talks resume next week."
    )
    assert parsed_speakers(text, counting) == ["Lindsey Graham"]
    # the quotation's own words are not parsed either
    assert seen == ["After the meeting Graham said the country would “Q” and left."]


@pytest.mark.parametrize(
    "text",
    [
        # another word for a title is the person with that title
        "President Alexander Lukashenko gave an interview to Vladimir Soloviev. Soloviev asked about the border.\n\n"
        "“Exactly! This is what I am talking about,” the head of state agreed.",
        # an office whose holder is named only later is that holder
        "“Western businesses have enriched themselves significantly in recent years. This is true,” the president "
        "said.\n\nIn his speech, Alexander Lukashenko recalled the conflicts unleashed after the war.",
    ],
)
def test_a_title_is_its_holder_by_another_word_or_named_only_later(text: str, parse) -> None:
    assert parsed_speakers(text, parse) == ["Alexander Lukashenko"]
    assert parsed_speakers(text) == ["Alexander Lukashenko"]


def test_a_credit_closing_a_sentence_is_no_author_of_its_document(parse) -> None:
    text = (
        "That's according to the summit communique, which has been published on the NATO website, Ukrinform "
        "reports.\n\n“Russia bears full responsibility for its war of aggression against Ukraine,” the communique reads."
    )
    assert parsed_speakers(text, parse) == ["NATO"]


def test_a_plain_attribution_is_read_without_the_parser(parse) -> None:
    seen: list[str] = []
    counting = recording(parse, seen)
    text = (
        "Graham met the delegation.\n\n“We will not give in to pressure,” Graham said.\n\n"
        "“The talks resume next week,” he added.\n\n“It was a long day,” said Anna Novak."
    )
    assert parsed_speakers(text, counting) == ["Lindsey Graham", "Lindsey Graham", "Anna Novak"]
    assert seen == []  # "“…,” X said.", "“…,” he added.", "“…,” said X.": the words around the quote are enough


@pytest.mark.parametrize(
    "text, speaker",
    [
        # the quotation opens the sentence and its speaker follows at once with the verb: what comes after is
        # no subject ("he told Reuters": Reuters is told, he speaks)
        (
            "Graham met the delegation.\n\n“We will not give in to pressure,” he told Reuters in a call.",
            "Lindsey Graham",
        ),
        ("“We will not give in to pressure,” Graham said in a statement to the Daily Courier.", "Lindsey Graham"),
        ("“We will not give in to pressure,” said Anna Novak, who met him in Brussels on Monday.", "Anna Novak"),
        # a pronoun and an adverb; a title before the name; a title alone, then the verb
        ("Graham met the delegation.\n\n“We will not give in to pressure,” he later added.", "Lindsey Graham"),
        ("“We will not give in to pressure,” Daily Courier columnist Anna Novak wrote on Monday.", "Anna Novak"),
        (
            "Kaja Kallas, the prime minister, met the delegation.\n\n“We will not give in to pressure,” the "
            "prime minister noted.",
            "Kaja Kallas",
        ),
        # a colon introduces the quotation that closes the sentence: the words before it name the speaker
        (
            "After a long day of talks in Brussels, Graham told the Daily Courier: “We will not give in.”",
            "Lindsey Graham",
        ),
    ],
)
def test_a_speaker_the_words_around_the_quote_name_plainly_is_read_without_the_parser(
    text: str, speaker: str, parse
) -> None:
    seen: list[str] = []
    assert parsed_speakers(text, recording(parse, seen)) == [speaker]
    assert seen == []


def test_a_paragraph_of_quotation_goes_to_the_body_that_spoke_before_it_but_not_to_a_credit(parse) -> None:
    quote = "\n\n“We call on Russia to withdraw its forces immediately and without conditions.”"
    assert parsed_speakers("The allies met in Brussels. NATO said this in a joint statement." + quote, parse) == [
        "NATO"
    ]
    assert parsed_speakers("The allies met in Brussels on Monday, Ukrinform reports." + quote, parse) == [None]


def test_the_statement_is_the_body_s_that_brought_it_in_a_paragraph_ending_the_sentence(parse) -> None:
    text = (
        "NATO issued a joint statement on Monday\n\nThe Daily Courier published it on Tuesday\n\n"
        "“We call on Russia to withdraw its forces immediately,” the statement said."
    )
    assert parsed_speakers(text, parse) == ["NATO"]


def test_a_person_right_after_said_speaks_when_the_parse_takes_a_clause_for_the_subject(parse) -> None:
    text = (
        "“The important thing to realize is that Russia is quite wary of what it calls contact warfare,” that is, "
        "forces fighting each on the ground, said Anna Novak, a research analyst."
    )
    assert parsed_speakers(text, parse) == ["Anna Novak"]
    # after "told" the name is whom the unnamed speaker told
    assert parsed_speakers("“We will not leave the city,” a senior official told Anna Novak.", parse) == [None]


def test_he_after_a_question_is_the_one_asked(parse) -> None:
    text = (
        "Anna Novak also asked Mark Rutte about the plan to keep Kaja Kallas from resigning. He said he was "
        "“grateful for the work that both of our services have been doing.”"
    )
    assert parsed_speakers(text, parse) == ["Mark Rutte"]
    # and "he" opening the sentence after the one that names a speaker is that speaker
    text = "Mark Rutte spoke to the press on Monday. He said the allies were “ready for anything that may come.”"
    assert parsed_speakers(text, parse) == ["Mark Rutte"]


def test_a_sentence_that_is_a_quotation_only_or_has_no_speech_verb_is_not_parsed(parse) -> None:
    seen: list[str] = []
    counting = recording(parse, seen)
    text = "Graham told reporters on Monday that the talks would go on.\n\n“We will not give in to pressure.”"
    assert parsed_speakers(text, counting) == ["Lindsey Graham"]  # the sentence before speaks for it
    # nor one without a speech verb outside its quotation: the parse reads who does a speech verb
    parsed_speakers("The plan for a “complete and total reset of the talks” should go further.", counting)
    assert seen == []


def test_a_title_is_the_person_the_article_gives_that_title(parse) -> None:
    text = (
        "Sen. Lindsey Graham spoke on Sunday about Nancy Pelosi and the war.\n\n"
        "“We need to stop business as usual on the floor,” the senator said."
    )
    assert parsed_speakers(text, parse) == ["Lindsey Graham"]


# --- speech verbs by lemma; carrying, chaining and titles (hand-written sentences) --------------------------------


def test_speech_verbs_are_listed_once_and_inflected_by_rule() -> None:
    assert verb_forms("emphasise") == {"emphasise", "emphasises", "emphasised", "emphasising"}
    assert verb_forms("reply") == {"reply", "replies", "replied", "replying"}
    assert {"said", "says", "saying", "underscores", "admitted", "stressed"} <= RULES.speech_verbs
    assert "points" not in RULES.speech_verbs  # a derived form that is a noun in news copy


PARSED_PEOPLE.update(
    {
        "Oleg Marchuk": "PERSON",
        "Marchuk": "PERSON",
        "Ivan Petrenko": "PERSON",
        "Petrenko": "PERSON",
        "Sergei Volkov": "PERSON",
        "Anton Belov": "PERSON",
        "Belov": "PERSON",
        "Presidential Office": "ORG",
    }
)
CANONICAL.update({"Marchuk": "Oleg Marchuk", "Petrenko": "Ivan Petrenko", "Belov": "Anton Belov"})


def test_a_quotation_the_parse_makes_the_subject_gives_way_to_its_apposition(parse) -> None:
    text = (
        "Deputy Head of the Presidential Office Oleg Marchuk spoke to the press on Monday.\n\n"
        "“The new rules will take effect next spring,” the deputy head of the Presidential Office said."
    )
    assert parsed_speakers(text, parse) == ["Oleg Marchuk"]


def test_an_unattributed_quote_goes_to_the_person_the_sentence_before_is_about() -> None:
    text = "Ivan Petrenko is convinced the talks will fail. “Nobody in Moscow wants a compromise this year.”"
    assert parsed_speakers(text, None) == ["Ivan Petrenko"]


def test_a_quotation_paragraph_goes_to_who_spoke_in_the_paragraph_before() -> None:
    text = (
        "Anna Novak said the ceasefire was fragile.\n\n"
        "Ivan Petrenko said on Monday that the border would stay closed until spring.\n\n"
        "“We cannot open it while the shelling goes on.”"
    )
    assert parsed_speakers(text, None) == ["Ivan Petrenko"]


def test_a_pronoun_goes_back_over_sentences_about_he(parse) -> None:
    text = (
        "“The harvest will be late this year,” Anna Novak said.\n\n"
        "Ivan Petrenko said he had warned the ministry in May. But he was ignored, he added.\n\n"
        "“Nobody listened to the farmers,” he said."
    )
    assert parsed_speakers(text, parse) == ["Anna Novak", "Ivan Petrenko"]


def test_a_paragraph_boundary_after_a_closing_quotation_still_ends_a_sentence(parse) -> None:
    text = (
        "Anna Novak wrote that the plan was “a step back for the whole region.”\n\n"
        "On Tuesday, Ivan Petrenko said the cabinet would meet again next week.\n\n"
        "He said, “We will vote on the budget before the summer recess.”"
    )
    assert parsed_speakers(text, parse)[-1] == "Ivan Petrenko"


def test_a_description_after_an_unnamed_introduction_is_nobody(parse) -> None:
    text = (
        "Anna Novak met the delegation on Friday. A senior official said the meeting went well.\n\n"
        "“Both sides listened carefully to each other,” the official said."
    )
    assert parsed_speakers(text, parse) == [None]


def test_a_qualified_title_needs_its_qualifier(parse) -> None:
    text = (
        "Defence Minister Sergei Volkov visited the troops. Foreign Minister Anton Belov stayed in the capital.\n\n"
        "“We are ready to talk whenever they are,” the foreign minister said."
    )
    assert parsed_speakers(text, parse) == ["Anton Belov"]


def test_the_holder_of_an_office_of_a_body_is_a_person_not_the_body() -> None:
    text = (
        "Deputy Head of the Presidential Office Oleg Marchuk opened the session.\n\n"
        "“The session will last two days,” the deputy head of the Presidential Office noted."
    )
    assert parsed_speakers(text, None) == ["Oleg Marchuk"]


def test_the_speaker_stands_next_to_the_speech_verb() -> None:
    text = "Asked about his meeting with Ivan Petrenko last week, Anna Novak said: “We did not agree on anything.”"
    assert parsed_speakers(text, None) == ["Anna Novak"]


def test_a_quote_its_own_sentence_gives_to_nobody_named_is_not_carried(parse) -> None:
    text = (
        "Ivan Petrenko is convinced the protests will grow.\n\n"
        "“Down with the government, down with the lies!” chanted the crowd outside the parliament."
    )
    assert parsed_speakers(text, parse) == [None]


PARSED_PEOPLE.update({"Policy Institute": "ORG", "Kyiv Energy": "ORG"})


@pytest.mark.parametrize(
    "text, speakers",
    [
        # "it said": the organisation named last
        (
            "The Policy Institute published its assessment on Monday.\n\n“The offensive has stalled in the south,” it said.",
            ["Policy Institute"],
        ),
        (
            "Kyiv Energy cut deliveries on Monday.\n\nIt says in a statement that the “technical condition of the engine” "
            "is the reason.",
            ["Kyiv Energy"],
        ),
        # "It" that is no speaker
        ("The Policy Institute wrote on Monday.\n\nIt gets worse though: “The plan must change now.”", [None]),
        # the long form of a title: "Minister of Foreign Affairs of ..." is the foreign minister
        (
            "Minister of Foreign Affairs of Belarus Sergei Volkov spoke in New York.\n\n"
            "“We are pessimistic about the talks,” the foreign minister said.",
            ["Sergei Volkov"],
        ),
        # the sentence after the quote opens with the name and the verb, however long it is
        (
            "Anna Novak spoke in court.\n\n“Why is that even relevant?” Novak said of the court date on Tuesday morning.",
            ["Anna Novak"],
        ),
        # a name with a possessive owns something, it does not speak
        (
            "Kaja Kallas and Mark Rutte echoed Graham’s remarks, stating: “It is imperative to release the report.”",
            ["Kaja Kallas"],
        ),
        # a report the story cites is not the quote's speaker; the quote ends with a full stop inside its marks
        (
            "As was earlier reported by the Daily Courier, Anna Novak recently said that “the border is closed to "
            "every truck.”",
            ["Anna Novak"],
        ),
        # "advisor" is "adviser"; the qualifier a few words before, with its possessive
        (
            "Speaking after the talks, the Kremlin's top foreign policy advisor Sergei Volkov told reporters the "
            "news.\n\nThe talks were long, which the Kremlin adviser described as “calm, balanced and "
            "business-like.”",
            ["Sergei Volkov"],
        ),
        # "the letter said": who wrote the letter the text brought in
        (
            "In a letter to the committee, Graham described the plan.\n\n“I am reviewing the report now,” the letter said.",
            ["Lindsey Graham"],
        ),
    ],
)
def test_speakers_referred_to_by_it_a_title_a_document_or_the_next_sentence(parse, text: str, speakers: list) -> None:
    assert parsed_speakers(text, parse) == speakers
    assert parsed_speakers(text) == speakers  # the words around the quote agree without the parser


@pytest.mark.parametrize(
    "text, speakers",
    [
        # a speech verb that brings in words of its own opens a new statement ("announced that ...")
        (
            "“Our government cannot recognise the referendum.” Russia announced that more than 90 percent of the "
            "residents approved the move in a vote last week.",
            [None],
        ),
        # a noun that looks like a speech verb ("the report") is no attribution of the name after it
        (
            "Their observations still “produced significant evidence of equipment” during the period. Citing the "
            "report, the Pentagon said in a separate statement that the military appeared to be involved.",
            [None],
        ),
    ],
)
def test_the_next_sentence_names_no_speaker_when_it_is_a_statement_of_its_own(parse, text: str, speakers: list) -> None:
    assert parsed_speakers(text, parse) == speakers
    assert parsed_speakers(text) == speakers  # the words around the quote agree without the parser


def test_a_document_speaks_for_its_author_named_before_it_or_in_the_sentence_that_brought_it_in(parse) -> None:
    # "the Daily Courier statement said": the body named before the document
    text = "“We urge both sides to talk,” the Daily Courier statement said."
    assert parsed_speakers(text, parse) == ["Daily Courier"]
    # "reads the statement": the one body the sentence that brought the statement in names
    text = (
        "The statement of the Russian foreign ministry came on Monday.\n\n"
        "“The border will stay open for everyone,” reads the statement."
    )
    assert parsed_speakers(text, parse) == ["Ministry of Foreign Affairs (Russia)"]
    # two bodies there: nothing tells whose statement it is
    text = (
        "The statement of the Russian foreign ministry, quoted by the Daily Courier, came on Monday.\n\n"
        "“The border will stay open for everyone,” reads the statement."
    )
    assert parsed_speakers(text, parse) == [None]


@pytest.mark.parametrize(
    "brought_in",
    [
        "NATO officials are reading a new plan. The plan, authored by the Daily Courier, is three pages long.",
        "NATO officials are reading a plan drafted by the Daily Courier.",
        "NATO officials are reading the Daily Courier's three-page plan.",
        "NATO officials are reading it. The Daily Courier writes in the plan that talks are over.",
    ],
)
def test_a_document_speaks_for_the_author_the_text_gives_it(parse, brought_in: str) -> None:
    # the sentence that first brought the plan in names another body: the text says who wrote it later
    text = brought_in + "\n\n“The border will stay open for everyone who needs it,” the plan states."
    assert parsed_speakers(text, parse) == ["Daily Courier"]


def test_it_after_a_document_is_the_document_of_its_author(parse) -> None:
    text = (
        "In October 1745, Anna Novak issued perhaps the sweetest decree. It said: “Send the best cats you can find to "
        "the court at once.”"
    )
    assert parsed_speakers(text, parse) == ["Anna Novak"]
    # a document whose author nobody names: the body named last, as before
    text = "NATO met on Monday. A report on the meeting came out.\n\n“The talks went on well into the night,” it said."
    assert parsed_speakers(text, parse) == ["NATO"]


def test_the_age_a_text_gives_someone_refers_back_to_them(parse) -> None:
    text = "Anna Novak came with her family.\n\n“This area was dangerous for years,” the 24-year-old said on Friday."
    assert parsed_speakers(text, parse) == ["Anna Novak"]
    assert parsed_speakers(text) == ["Anna Novak"]


# -- quotations a scrape broke (issue 12: publishers the rules were never tuned on) ---------------------------------


def test_a_quotation_a_scrape_broke_into_lines_is_one_quote() -> None:
    text = (
        "Ramzan Kadyrov told the crowd: “We will rebuild every school in the region.\n"
        "A great moment for all of us.\n"
        "Nobody will be left behind.”\n\n"
        "The crowd cheered."
    )
    [(speaker, quote)] = speakers(text)
    assert speaker == "Ramzan Kadyrov"
    assert quote.startswith("We will rebuild") and quote.endswith("Nobody will be left behind.")


def test_a_line_that_reopens_nothing_but_holds_another_quotation_is_not_joined() -> None:
    text = "Putin said: “We will rebuild every school in the region.\nHe called it “a duty of the state” on Monday."
    quotes = [q for _, q in speakers(text)]
    assert "a duty of the state" in quotes  # the second line's own quotation stays its own


def test_a_quotation_whose_opening_mark_the_scrape_lost_is_found() -> None:
    curly = "Anna said the talks were hard.\n\nWe cannot accept these terms while the shelling goes on,” said Zelensky."
    straight = (
        'Anna said the talks were hard.\n\nWe cannot accept these terms while the shelling goes on," said Zelensky.'
    )
    for text in (curly, straight):
        assert speakers(text) == [("Volodymyr Zelenskyy", "We cannot accept these terms while the shelling goes on")]
    # a straight mark without an attribution after it is no quotation's end
    assert speakers('He measured the board at 12,5" wide and cut it twice.\n\nIt fit.') == []


def test_two_paragraphs_glued_at_their_quotation_marks_are_two_quotes() -> None:
    text = (
        "Zelensky said in a statement “that the war will end soon.”“The front is holding everywhere today,” Putin said."
    )
    assert speakers(text) == [
        ("Volodymyr Zelenskyy", "that the war will end soon."),
        ("Vladimir Putin", "The front is holding everywhere today"),
    ]


def test_a_pronoun_subject_makes_the_name_after_it_an_object(parse) -> None:
    text = (
        "During the brief service, Anna Novak compared Mark Rutte to a medieval prince.\n\n"
        "She reminded Mark Rutte that a head of state sometimes “has to take fateful and formidable decisions”."
    )
    assert parsed_speakers(text, parse) == ["Anna Novak"]


def test_the_holder_named_after_a_title_of_a_body_speaks(parse) -> None:
    # the parse hangs "Anna Novak" on "the Daily Courier", not on "editor": the holder of the title still speaks
    text = (
        "The U.S. envoy to the Daily Courier, Anna Novak, said in the statement: "
        "“Nobody here believes the ceasefire will hold.”"
    )
    assert parsed_speakers(text, parse) == ["Anna Novak"]


def test_a_name_in_an_opening_clause_is_not_the_subject_the_name_after_its_comma_is(parse) -> None:
    text = (
        "With Mark Rutte now looking to cut the budget, Commission President Anna Novak has rolled out a plan. "
        "“Europe needs to be ready for a long winter,” she commented on July 20."
    )
    assert parsed_speakers(text, parse) == ["Anna Novak"]


def test_a_double_prime_closes_a_quotation() -> None:
    text = '"Wyoming has the uranium to replace Russian imports, and we are ready to use it,″ Zelensky added.'
    assert speakers(text) == [
        ("Volodymyr Zelenskyy", "Wyoming has the uranium to replace Russian imports, and we are ready to use it")
    ]


def test_a_dash_set_off_by_spaces_ends_a_clause_before_the_subject(parse) -> None:
    text = (
        "“We will talk about it later,” Anna Novak said.\n\n"
        "When the presenter asked him to clarify his statement - that the weapons had come sooner than expected - "
        "Mark Rutte chuckled. “Not all of them. Gradually,” he said."
    )
    assert parsed_speakers(text, parse) == ["Anna Novak", "Mark Rutte"]


def test_an_unattributed_quotation_in_a_report_of_one_persons_speech_is_that_persons(parse) -> None:
    text = (
        "Kaja Kallas spoke at the assembly on Monday. “We will not accept a peace that rewards the aggressor,” "
        "she said.\n\n“Europe has learned the lesson of the last century,” Kallas added.\n\n"
        "“Sanctions will stay until the troops have left,” the prime minister said.\n\n"
        "The assembly then turned to the budget. “History teaches us that appeasement never works.”"
    )
    assert parsed_speakers(text, parse) == ["Kaja Kallas"] * 4
    # with two people speaking as often, an unattributed quotation stays nobody's
    text = (
        "“We will not accept a peace that rewards the aggressor,” Kaja Kallas said.\n\n“Europe has learned the "
        "lesson,” Mark Rutte said.\n\nThe assembly turned to the budget. “History teaches us that it never works.”"
    )
    assert parsed_speakers(text, parse)[-1] is None


def test_she_is_never_a_person_the_text_calls_he(parse) -> None:
    text = (
        "Kaja Kallas said the talks would go on. She called for patience.\n\n"
        "Mark Rutte arrived later, and he spoke to reporters about the budget.\n\n"
        "“There will be more difficulty to explain why this war continues,” she added."
    )
    assert parsed_speakers(text, parse) == ["Kaja Kallas"]
    # a person the text gives no pronoun still takes one that refers back to them
    text = "Anna Novak arrived late.\n\n“We will not give in to pressure,” she said."
    assert parsed_speakers(text, parse) == ["Anna Novak"]


def test_she_is_nobody_whose_first_name_makes_him_a_man_when_the_text_does_not_say(parse) -> None:
    text = (
        "Alexander Lukashenko congratulated Anna Novak on her first title and was seen toasting her success.\n\n"
        "“I said it many times already, I am not supporting the war,” she said on Tuesday."
    )
    assert parsed_speakers(text, parse) == ["Anna Novak"]
    # without the table of first names, the man the sentence before is about
    unnamed = QuoteRules.from_data(read_toml(DATA_DIR / "enrich_quotes.toml"))
    assert parsed_speakers(text, parse, unnamed) == ["Alexander Lukashenko"]


def test_first_names_table_gives_a_gender_only_to_names_nearly_always_one() -> None:
    assert RULES.gender_of("Alexander Lukashenko") == "m"
    assert RULES.gender_of("Olena Zelenska") == "f"
    assert RULES.gender_of("Sasha Petrova") is None  # borne by women and men alike
    assert RULES.gender_of("Lukashenko") is None  # a family name alone says nothing
    with pytest.raises(ValueError, match="not a name, a tab and f or m"):
        read_given_names("# provenance\nolena\tx\n")


def test_a_description_given_to_somebody_later_is_another_person(parse) -> None:
    text = (
        "“We had many classes on history and political science,” said a student at the faculty. “They are all gone "
        "now,” the student said.\n\nAnna Novak, a student at the faculty since 2021, disagreed with the decision."
    )
    assert parsed_speakers(text, parse) == [None, None]


def test_words_a_sentence_brings_in_as_somebodys_statement_are_that_persons(parse) -> None:
    text = (
        "The NATO summit ended on Friday. NATO recalled a statement by Mark Rutte from April 19 that the alliance "
        "“will keep supporting its partners for as long as it takes” in the war."
    )
    assert parsed_speakers(text, parse) == ["Mark Rutte"]


def test_sentence_starts_are_read_once_per_text_and_cut_at_the_offset_asked() -> None:
    from pipeline.enrichment.quotation_marks import quoted_spans
    from pipeline.enrichment.referents import sentence_starts

    text = "He left. She stayed.\n \n“We will go,” he said. Then rain.\n\nThe end came."
    spans = quoted_spans(text)
    she, quote, then, end = text.index("She"), text.index("“"), text.index("Then"), text.index("The end")
    assert sentence_starts(text, len(text), spans) == [0, she, quote, then, end]
    # asked at the quotation: the full stop before it needs the capital after it, but its line breaks (two runs,
    # a space between them) still end paragraphs
    assert sentence_starts(text, quote, spans) == [0, she, quote - 2, quote]
    # asked at "Then", the sentence it opens is not yet counted; one character on, it is
    assert sentence_starts(text, then, spans) == [0, she, quote]
    assert sentence_starts(text, then + 1, spans) == [0, she, quote, then]
