"""Boilerplate removal: the furniture the seeds carry goes, the story stays; arbitrary text never breaks it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.enrichment.clean import BoilerplateRules, clean_text
from pipeline.enrichment.dateline import AgencyTable
from pipeline.enrichment.tables import DATA_DIR, read_toml

AGENCIES = AgencyTable.from_data(read_toml(DATA_DIR / "enrich_agencies.toml"))
RULES = BoilerplateRules.from_data(read_toml(DATA_DIR / "enrich_boilerplate.toml"), AGENCIES.names)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "A fire at the site of an air attack in Kyiv regionCredit: AFP\nStory.",
            "A fire at the site of an air attack in Kyiv region\nStory.",
        ),
        ("Polish F-16s during a sortieCredit: AP:Associated Press", "Polish F-16s during a sortie"),
        (
            "Zelensky: 'For now I don't intend to negotiate.' - Photo | video | video 1",
            "Zelensky: 'For now I don't intend to negotiate.'",
        ),
        ("Story.\n\nRelated Articles\n\nBack to top button", "Story."),
        (
            "Story.\n\nSource link\n\nLeave a Reply\n\nYour email address will not be published. Required fields are marked *",
            "Story.",
        ),
        ("Story ends. EFE\n\nmos-int/ks", "Story ends."),
        ("Lead.\n\nPutin's daughters sanctioned by the US: 'They hide assets' - guard\n\nMore.", "Lead.\n\nMore."),
        ("  zelensky-1920 Volodymyr Zelensky: 'Liberemo il Paese' Photo Video\n\nKiev advances.", "Kiev advances."),
        (
            "Lead.\n\nWAR TALKS\n\nTrump hints at a deal as 5 key points hashed out\n\nStory goes on.",
            "Lead.\n\nStory goes on.",
        ),
        (
            "Lead.\n\nRead also: German MoD says another Patriot system to be sent to Ukraine ASAP\n\nMore.",
            "Lead.\n\nMore.",
        ),
        ("Lead.\n\nOther Topics of Interest Who Is Andrey Belousov? A profile.\n\nMore.", "Lead.\n\nMore."),
        ("Story.\n\nPhoto: EU Satellite Centre", "Story."),
    ],
)
def test_seed_furniture_goes(text: str, expected: str) -> None:
    assert clean_text(text, RULES) == expected


@pytest.mark.parametrize(
    "furniture",
    [
        # promotions and calls to action
        "CLICK HERE TO GET THE NEWSROOM APP",
        "Click here to sign up for our morning briefing",
        "NEW You can now listen to Daily Courier articles!",
        "JOIN US ON TELEGRAM! Follow our coverage of the war on the @dailycourier_news.",
        "Subscribe to us Twitter",
        "Follow us on Facebook and X for the latest updates",
        "Sign up to our free Europe Today newsletter, delivered to your inbox every weekday.",
        "You’re reading an excerpt from the Morning Dispatch newsletter. Sign up to get the rest, sent to your inbox.",
        "To learn more about the history of the region, subscribe to Courier Plus and watch the documentary today.",
        "Download the Daily Courier app for breaking news alerts",
        "Do you have an opinion on the issues raised in this article? If you would like to submit a response by email, click here.",
        # consent banners and blocked embeds
        "We need your consent to load this social media content",
        "We need your consent to load this Social Media content. We use a number of different Social Media outlets to "
        "manage extra content that can set cookies on your device and collect data about your activity. Please review "
        "your details and accept them to load the content",
        "We use cookies to improve your experience. By continuing to browse you accept our cookie policy.",
        "This content is not available in your region",
        # credits and republication notes
        "Courier reporters Anna Novak and Piotr Lis contributed to this report.",
        "Reporting by Olena Harmash; Editing by Peter Graff",
        "Photo: Ministry of Defence press service",
        "Cover photo: presidential press office",
        "Photos courtesy of the regional administration",
        "This report was originally published by the Ukraine Monitor at monitor.example.org.",
        "Article posted with permission from The Eastern Review",
        "The views expressed in this opinion article are the author’s and not necessarily those of the Daily Courier.",
        "If using any of Courier's content, partly or in full, always provide an active hyperlink to the original material.",
        # pointers to more
        "You can read more about the summit here",
        "Read the full story -- which also looks at the sanctions -- here:",
        "Read the original article via the Policy Institute here.",
        "2:15 Mayor says the city will rebuild – video",
        "Video Ad Feedback Satellite images show the new camps. An expert explains 01:33 - Source: Courier TV",
        "Sanctions bite https://t.co/abc123 — Courier Desk (@courierdesk) May 3, 2023",
        # interstitial headlines of other stories, wire initials, credit lines
        "GENERALS WARN OF A LONG SUMMER OF FIGHTING ALONG THE SOUTHERN FRONT",
        "MINISTER SAYS 'NO DEAL' WITHOUT GUARANTEES: REPORT",
        "U.S. TROOPS ARRIVE IN POLAND AS TALKS STALL",
        "ol",
        "Jan Kowalski/Courier, Eastern Films, Studio Nord, 1979",
        # photo captions ending with their credit
        "Children on the harbour steps 1961-1964. Jan Novak/ City Archive/ MDF",
        "Apples for sale at the market. Ivan Petrov/Courier Ivan Petrov/Courier",
        "A painting of the old port. City Museum. 1938. Courier Courier",
        # calls to action glued to the line before
        "Telegram channel Subscribe to our weekly email newsletter",
        "weekly email newsletter Enable push notifications on our website",
        "website Install a VPN service on your computer and/or phone to have access to our website",
        # forms, polls and share prompts
        "Name * This field is for validation purposes and should be left unchanged. Completing this survey gives you "
        "the Courier's updates. You may opt out at any time.",
        "Which mayor deserves a second term? Which mayor deserves a second term?",
        "Which mayor deserves a second term? * Anna Novak Piotr Lis Jan Kowalski",
        "Also on courier.example.net Mayors meet to discuss the winter budget",
        "Think your followers would be interested? Share this story!",
        "Enjoyed this article? Pass it on.",
        # time stamps, reading time, tags, bylines with their outlet, broadcasters' picture credits
        "Published: 12:34 GMT, 3 March 2023 | Updated: 14:10 GMT, 3 March 2023",
        "Updated 3 hours ago",
        "Last updated on March 3, 2023 at 10:15 a.m. EST",
        "5 min read",
        "Tags: Harbour, Council, Budget",
        "Click to expand",
        "By Anna Novak, Courier",
        "Image source, Courier Images",
        # stop 21: a seventh batch of outlets
        "Fight disinformation: Sign up for the free Courier Daily newsletter and follow the news that matters.",
        "Get your news from a source that’s not owned by oligarchs. Sign up for the free Courier Daily.",
        "Get the latest headlines, breaking news and columns.",
        "Stay updated with notifications for breaking news and our best stories",
        "Get WhatsApp alerts",
        "Join our channel for the top reads for the day on your preferred chat app",
        "Join the Daily Courier's WhatsApp community here",
        "Do you have a story to share? Email us at yourstory@courier.example",
        "Want a quick briefing on the biggest stories? Listen to our latest podcasts to find out more",
        "Watch the latest Courier West bulletins here",
        "Read a summary of this article on FAST.",
        "Video report by Courier West Correspondent Jane Doe",
        "You must be logged in to join the discussion or read more comments.",
        "Comments will be moderated. Keep comments relevant to the article.",
        "Disclaimer: Comments do not represent the views of Courier.net.",
        "Conversations are opinions of our readers and are subject to the Code of Conduct.",
        "This story has been viewed 2,847 times.",
        "Courier is not responsible for the content of external internet sites.",
        "Disclosure statement",
        "Jane Doe does not work for, consult, own shares in or receive funding from any company that would benefit.",
        "University of Ruritania provides funding as a founding partner of The Courier.",
        "Republish our articles for free, online or in print, under Creative Commons licence.",
        "Courier delivers independent coverage of the region. To learn more about republishing our content, click here.",
        "Sustaining this needs support from wonderful readers like you.",
        "Wherever you live, you can take a paid subscription by clicking here.",
        "Article content",
        "Author of the article:",
        "Text Size: A- A+",
        "Title icon",
        "READ: Ministry eyes rice import ban extension",
        "15 Apr 2025 06:15PM (Updated: 15 Apr 2025 08:40PM)",
        "Published date: 16 April 2025 14:22 BST | Last update: 4 hours 12 mins ago",
        "A coast guard ship off the island yesterday. Photo courtesy of the Coast Guard Administration",
        "The ship in the Northwest Passage. Photo by Jane Doe/The Canadian Press",
        "Workers unload sacks of rice at a warehouse. COURIER FILE PHOTO / JANE DOE",
        "A dairy herd shelters under trees during a heatwave. Jane Doe, CC BY-ND",
    ],
)
def test_furniture_of_many_outlets_goes(furniture: str) -> None:
    assert (
        clean_text(f"The story begins.\n\n{furniture}\n\nThe story goes on.", RULES)
        == "The story begins.\n\nThe story goes on."
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("EXCLUSIVE: Senators wrote to the president on Monday.", "Senators wrote to the president on Monday."),
        ("A soldier walks past the ruins in Irpin. (Maria Lysenko/AP)", "A soldier walks past the ruins in Irpin."),
        (
            "Firefighters at work in Odesa (Photo by Ivan Hrek/AFP via Getty Images) on Sunday.",
            "Firefighters at work in Odesa on Sunday.",
        ),
        ("Rescuers dig through rubble (AP Photo/Dan Bolt)", "Rescuers dig through rubble"),
        (
            "No motive was ever found. Article posted with permission from The Eastern Review",
            "No motive was ever found.",
        ),
        (
            "The paper republished it with permission from the author.",
            "The paper republished it with permission from the author.",
        ),
        (
            "The council met again. A History of the Port... Anna Novak, Ed... Best Price: $12.40 Buy New $15.00 "
            "(as of 09:10 EDT - Details)",
            "The council met again.",
        ),
        (
            "Nobody asked why. Winter Roads: ... Dr. Jan Kowalski Best Price: $8.00 Buy New $8.51 (as of 02:00 EDT - Details)",
            "Nobody asked why.",
        ),
    ],
)
def test_glued_credits_and_kickers_are_cut_off(text: str, expected: str) -> None:
    assert clean_text(text, RULES) == expected


def test_headlines_and_teasers_above_the_dateline_go_but_a_pull_quote_stays() -> None:
    text = (
        "Ten things to know about the grain deal\n\nWhy are the ports still closed?\n\n"
        "“We will not give up,” the minister said.\n\n"
        "ODESA, 3 May (Courier) – Ships left the port on Tuesday, officials said."
    )
    assert clean_text(text, RULES) == (
        "“We will not give up,” the minister said.\n\n"
        "ODESA, 3 May (Courier) – Ships left the port on Tuesday, officials said."
    )


@pytest.mark.parametrize(
    "text",
    [
        "The president spoke to Agence France-Presse (AFP) in Minsk on Monday.",
        "WASHINGTON (AP) —\n\nThe Senate voted on Tuesday.",
        "Research by the Kyiv School of Economics shows losses of $150 billion.",
        "Photos taken by residents showed the damage.",
        "NATO SUMMIT",
        "He said the views expressed by the minister were his own.",
        # capitals that are prose, not another story's headline
        "NOTICE THAT NOT ONE PAPER THANKED THE MAYOR FOR OPENING THE BRIDGE. HOW CAN THIS BE? WHAT IS THE EXPLANATION?",
        "“Will the bridge open?” the mayor asked. “Not this year.”",
        # a slash or a repeated word inside a story sentence
        "Trade between the two countries fell by half in 2022/2023, officials said.",
        "The port handled grain and grain products for Egypt/Sudan.",
        "Ships sailed again and again past the harbour wall.",
        # a bracket with "via" inside a sentence is no photo credit
        "The talks (held via video link with Kyiv) ended without a deal, the minister said on Monday.",
        # time stamps, tags, bylines and copyright: story sentences that start the same way
        "Updated figures published on Monday show 300 deaths in the region since March.",
        "Published in 2019, the report found 12 cases of abuse.",
        "Topics discussed included trade, energy and the war.",
        "By Monday, Russian forces had pushed 12 kilometres further south.",
        "Copyright law in the EU was changed in 2019 after a long debate.",
        # stop 21
        "Stay informed on the storm's path, officials urged residents on Monday.",
        "The clinic receives funding from the state government, the minister said.",
        "Comments on the draft law close on Friday, the ministry said.",
    ],
)
def test_story_lines_near_the_new_rules_stay(text: str) -> None:
    assert clean_text(text, RULES) == text


def test_lines_the_source_repeats_go_when_given() -> None:
    from pipeline.enrichment.repeated import line_fingerprint

    text = "Story line one.\n\nSupport the Courier: become a friend of the newsroom.\n\nStory line two."
    repeated = {line_fingerprint("Support the Courier: become a friend of the newsroom.")}
    assert clean_text(text, RULES, repeated=repeated) == "Story line one.\n\nStory line two."


def test_repeated_headline_and_the_labels_above_it_go() -> None:
    text = "Conflicts & War\n\nRussia attacks Ukraine\n\nLviv, Dec 19 (EFE).- Russia launched drones."
    assert clean_text(text, RULES, titles=("Russia attacks Ukraine",)) == "Lviv, Dec 19 (EFE).- Russia launched drones."


def test_a_headline_repeated_mid_story_goes_but_the_story_above_stays() -> None:
    text = "First paragraph of the story.\nUkraine Launches Drone Blitz\nSecond paragraph."
    assert (
        clean_text(text, RULES, titles=("Ukraine Launches Drone Blitz",))
        == "First paragraph of the story.\nSecond paragraph."
    )


def test_story_lines_that_look_like_furniture_stay() -> None:
    text = (
        "WAR FRONT - Yesterday evening the air alarm sounded.\n\nMarathon peace talks\n\n"
        "He said the photo was fake, and video showed more.\n\nReuters reported 12 dead."
    )
    assert clean_text(text, RULES) == text


def test_nothing_left_is_the_empty_string() -> None:
    assert clean_text("Related Articles\n\nBack to top button\n\n   \n", RULES) == ""


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _is_subsequence(small: str, big: str) -> bool:
    it = iter(big)
    return all(c in it for c in small)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_cleaning_arbitrary_text_never_invents_anything_and_is_stable(text: str) -> None:
    cleaned = clean_text(text, RULES, titles=(text[:20],))
    assert _is_subsequence(_squeeze(cleaned), _squeeze(text))
    assert clean_text(cleaned, RULES, titles=(text[:20],)) == cleaned


WORDS = [
    "russia",
    "launched",
    "drones",
    "at",
    "kyiv",
    "overnight",
    "officials",
    "said",
    "the",
    "attack",
    "photo",
    "video",
    "credit",
    "reply",
    "source",
    "link",
    "related",
    "articles",
    "top",
    "guard",
    "war",
    "talks",
    "energy",
    "grid",
]
SENTENCES = st.lists(st.sampled_from(WORDS), min_size=4, max_size=14).map(
    lambda w: " ".join([w[0].title(), *w[1:]]) + "."
)


# a story's paragraphs differ from each other: a short line said three times is a widget's (test_echoes_…)
@settings(max_examples=200, deadline=None)
@given(st.lists(SENTENCES, min_size=1, max_size=6, unique=True))
def test_plain_story_paragraphs_survive_word_for_word(paragraphs: list[str]) -> None:
    text = "\n\n".join(paragraphs)
    assert clean_text(text, RULES).split() == text.split()


def test_a_headline_glued_to_the_first_line_is_cut_off() -> None:
    title = "Mayor's Plan to Rebuild the Old Harbour Met With Cheers, Doubts"
    text = f"{title} ODESA (Courier) — The mayor presented the plan on Monday.\n\nMore."
    assert (
        clean_text(text, RULES, titles=(title,)) == "ODESA (Courier) — The mayor presented the plan on Monday.\n\nMore."
    )
    # a first sentence that merely starts like a short title stays whole
    assert (
        clean_text("Ships left the port on Tuesday.", RULES, titles=("Ships left",))
        == "Ships left the port on Tuesday."
    )


def test_a_graphics_labels_and_an_author_widget_go_but_title_case_prose_stays() -> None:
    labels = (
        "Kamyanets Uman UKRAINE Briceni Soroca TRANSNISTRIA Self-proclaimed republic since 1991 Botosani Balti "
        "Ribnita MOLDOVA Chisinau Tiraspol"
    )
    widget = "Follow this author Anna Novak 's opinions Follow"
    text = f"The story begins.\n\n{labels}\n\n{widget}\n\nThe story goes on."
    assert clean_text(text, RULES) == "The story begins.\n\nThe story goes on."
    prose = "The NATO and EU Leaders Met In Brussels On Monday And Agreed New Sanctions On Russia, Officials Said."
    assert clean_text(prose, RULES) == prose


# --- mechanisms that do not depend on an outlet's wording (fresh5/fresh6 of the golden set) ----------------------


def test_a_line_made_of_furniture_words_goes_however_it_is_phrased() -> None:
    # no line pattern of the data file knows this wording: the words of a newsletter box make it furniture
    box = (
        "Before the newsletter promotion Join the Morning Digest Our daily email tells you what matters Enter your "
        "email address Join Privacy Notice: we may show sponsored content. The reCaptcha Privacy Policy and Terms of "
        "Service apply."
    )
    assert clean_text(f"The council met on Monday.\n\n{box}\n\nIt voted twice.", RULES) == (
        "The council met on Monday.\n\nIt voted twice."
    )
    # a short line naming two: the consent under a form
    assert clean_text("Story.\n\nYou accept the Privacy Policy and Terms of Use of this page.", RULES) == "Story."
    # a story sentence about a privacy policy names one or two in a long sentence, and stays
    story = (
        "The regulator said the company changed its privacy policy last year without telling the millions of people "
        "who use its messaging service every day."
    )
    assert clean_text(story, RULES) == story
    # a quotation is never furniture
    quoted = "“Nobody reads a privacy policy, the terms of use or a newsletter,” the minister said."
    assert clean_text(quoted, RULES) == quoted


def test_echoes_a_widget_repeats_and_a_pull_quote_go_a_doubled_paragraph_stays() -> None:
    question = "Do you think the council will approve the new harbour plan"
    text = f"The council met.\n{question}?\n{question}?\n{question}?\nIt voted twice."
    assert clean_text(text, RULES) == "The council met.\nIt voted twice."
    # a pull quote: a line without a sentence's end whose words run through a longer line of the story
    story = "But the mayor knows that any delay over the harbour may be read in the capital as fatal weakness."
    pull = "The mayor knows any delay over the harbour may be read in the capital as fatal weakness"
    assert clean_text(f"Lead.\n\n{pull}\n\n{story}", RULES) == f"Lead.\n\n{story}"
    # a story paragraph the scrape doubled keeps both copies: the clean text loses no word of the story
    doubled = "The mayor said the harbour plan would be voted on next week."
    assert clean_text(f"{doubled}\n\n{doubled}", RULES) == f"{doubled}\n\n{doubled}"
    # a sub-heading said twice loses its second copy
    heading = "What the harbour plan means for the city"
    assert clean_text(f"{heading}\n\nLead.\n\n{heading}\n\nMore.", RULES) == f"{heading}\n\nLead.\n\nMore."


def test_short_lines_between_furniture_above_and_below_are_furniture() -> None:
    text = (
        "The council met.\nTake our poll - story continues below\nWill the plan pass?\nYes, it has the votes.\n"
        "No, it will fail.\nEmail *\nIt voted twice."
    )
    assert clean_text(text, RULES) == "The council met.\nIt voted twice."
    # a story paragraph between two furniture lines is longer than a widget's choices, and stays
    paragraph = (
        "The mayor told reporters on Monday that the harbour plan would be voted on before the summer recess began."
    )
    text = f"Lead.\nRead more: Harbour plan unveiled\n{paragraph}\nRead more: Council in row\nEnd."
    assert clean_text(text, RULES) == f"Lead.\n{paragraph}\nEnd."
    # and so does a short one: a sentence of eight words or more between a newsletter box and an advert
    short = "The mayor said rescue work would continue through the night."
    text = f"Lead.\nSign up for our free morning newsletter.\n{short}\nAdvertisement\nEnd."
    assert clean_text(text, RULES) == f"Lead.\n{short}\nEnd."
    # a poll's choices under its question go even when they read as sentences
    text = (
        "The council met.\nTake our poll - story continues below\nWill the council pass the harbour plan this year?\n"
        "Yes, they have promised it to the voters many times.\nNo, the opposition will block it again.\nEmail *\n"
        "It voted twice."
    )
    assert clean_text(text, RULES) == "The council met.\nIt voted twice."


@pytest.mark.parametrize(
    "line",
    [
        "(Reporting by Anna Novak; Editing by Piotr Lis)",
        "© 2023 Courier News & Media Limited or its affiliated companies. All rights reserved.",
        "Copyright 2024 The Courier. All rights reserved. This material may not be published, broadcast, rewritten or "
        "redistributed.",
        "Our Standards: The Courier Trust Principles.",
    ],
)
def test_credits_in_brackets_and_long_copyright_notices_go(line: str) -> None:
    assert clean_text(f"The story begins.\n\n{line}\n\nThe story goes on.", RULES) == (
        "The story begins.\n\nThe story goes on."
    )


@pytest.mark.parametrize(
    "line",
    [
        "March 22, 2019:",
        "Monday 4 March 2024 10.32 GMT",
        "Dear readers,",
        "The lake at dawn. Semenov.m7 (CC BY-SA) Semenov.m7 (CC BY-SA)",
        "HARBOUR PLAN VOTE DELAYED AGAIN take our poll - story continues below",
    ],
)
def test_page_stamps_salutations_doubled_credits_and_glued_poll_markers_go(line: str) -> None:
    assert clean_text(f"Lead.\n\n{line}\n\nMore.", RULES) == "Lead.\n\nMore."


def test_a_lede_in_capitals_ending_with_a_full_stop_is_story() -> None:
    lede = (
        "THE CITY COUNCIL WILL NOT APPROVE ANY MORE HARBOUR CONTRACTS AS PART OF ITS REVIEW, THE MAYOR'S OFFICE "
        "ANNOUNCED ON FRIDAY."
    )
    assert clean_text(f"{lede}\nThe review began in May.", RULES) == f"{lede}\nThe review began in May."
    # another story's headline between paragraphs ends without one, and goes
    assert clean_text("Lead.\nHARBOUR CONTRACTS FROZEN AFTER REVIEW\nMore.", RULES) == "Lead.\nMore."
    # a title's abbreviation ends no sentence: the headline with a byline of ranks goes too
    headline = "HARBOUR PLAN SHELVED AFTER TWO YEARS 'WITH NO END IN SIGHT': PORT ADVISER RET. LT. GEN. NOVAK"
    assert clean_text(f"Lead.\n{headline}\nMore.", RULES) == "Lead.\nMore."


def test_the_writers_note_after_the_story_goes_but_the_same_words_in_the_story_stay() -> None:
    bio = "Anna Novak is a Daily Courier columnist and the author of Harbour Lights"
    assert clean_text(f"Lead.\n\nMore.\n\n{bio}", RULES) == "Lead.\n\nMore."
    story = f"{bio}.\n\nShe moved to Odesa in 2019.\n\nThe harbour reopened."
    assert clean_text(story, RULES) == story  # high up, the same words are the story's
    said = "Lead.\n\nJohn Smith is the former director of the port and said the plan would fail."
    assert clean_text(said, RULES) == said
    # two writers' notes, one under the other, and one without an article ("is state political reporter for")
    text = (
        "The story begins.\n\nThe story ends with a sentence of the story.\n\n"
        "Anna Novak is a politics reporter for the Courier.\n\nPiotr Lis is state political reporter for the Courier."
    )
    assert clean_text(text, RULES) == "The story begins.\n\nThe story ends with a sentence of the story."
    # the outlet's note on itself closes the page the same way; higher up, the same shape is story
    note = "The Courier is an impartial platform & does not speak for the government or any political party."
    assert clean_text(f"Lead.\n\nMore.\n\n{note}", RULES) == "Lead.\n\nMore."
    story = "Hezbollah is a network of militias backed by Iran, officials said.\n\nMore.\n\nThe end of the story."
    assert clean_text(story, RULES) == story


def test_a_live_blogs_writer_credit_goes_but_a_report_from_a_place_stays() -> None:
    assert clean_text("Lead.\n\nAnna Novak writes from Odesa.\n\nMore.", RULES) == "Lead.\n\nMore."
    story = "Lead.\n\nAnna Novak reports from Odesa that the port is closed.\n\nMore."
    assert clean_text(story, RULES) == story
    glued = "The port reopened on Monday, Anna Novak writes from Odesa. “We are back,” a docker said."
    assert clean_text(glued, RULES) == "The port reopened on Monday. “We are back,” a docker said."


def test_a_name_signing_the_text_off_on_its_last_line_goes_but_a_last_sentence_stays() -> None:
    story = "Russia annexed Crimea in 2014.\n\nThe referendum was not recognised by the United Nations."
    signed = story + "\n\nCenter for Strategic Communication and Information Security"
    assert clean_text(signed, RULES) == story
    assert clean_text(story + "\n\nThe talks resume in May", RULES).endswith("The talks resume in May")
    assert clean_text(story, RULES) == story


@pytest.mark.parametrize(
    "line",
    [
        # calls to follow, join, listen and subscribe, however the outlet names itself
        "Join The Harbour Times on WhatsApp and stay up to date",
        "Follow Courier News on WhatsApp",
        "Join HT's WhatsApp Channel and get the latest news and must-reads.",
        "Follow our live blog for the latest updates on the war.",
        "Sign up for push alerts and have the best news delivered directly to your phone",
        "Listen to our Inside Westminster podcast for the latest political news and analysis",
        "Click to subscribe to the Courier Daily wherever you get your podcasts",
        "For the latest news, weather, sports, and streaming video, head to The Courier.",
        "For the latest emergency information, follow Courier Emergency or visit the Courier Emergency website.",
        "Get more local stories in your inbox with Courier Denver.",
        "The most important stories and recommendations in your inbox every morning.",
        "Enter email address",
        "Sign Me Up",
        "Sign up for Essential Harbour",
        "You may occasionally receive promotional content from the Daily Courier.",
        "Can the market support more players? Join the conversation below.",
        "Do you live near the plant? We want to hear from you. Contact reporter Anna Novak.",
        "Send us your feedback!",
        "Support local journalism by becoming a member.",
        "The Courier has been declared an 'undesirable' organisation. Support our work.",
        "By subscribing, you can help us get the story right.",
        "In a time of both misinformation and too much information, quality journalism is more crucial than ever.",
        "Before it’s here, it’s on the Courier Terminal. LEARN MORE",
        "The Courier is a nonprofit newsroom. Sign up to receive our biggest stories as soon as they’re published.",
        "Why you can trust the Courier",
        # credits, update and print notes, disclaimers, bylines
        "Anna Novak contributed reporting from Kharkiv.",
        "—With assistance from Piotr Lis and Olena Harmash.",
        "(With inputs from PTI)",
        "(Updates with analyst comment in fifth paragraph.)",
        "A version of this article appears in print on Nov. 29, 2024, Section A, Page 9 of the New York edition.",
        "Appeared in the June 11, 2024, print edition.",
        "This interview was conducted in German and has been edited for length and clarity.",
        "Courier transcripts are created on a rush deadline. This text may not be in its final form.",
        "Write to Anna Novak at anna.novak@courier.com",
        "Edited by: Piotr Lis",
        "Anna Novak Wei Min, Court Correspondent",
        "Political reporter @AnnaNovakNews",
        "Series: Fenceline — Living in the Shadow of the Plants",
        # captions closed by their credit, and notices with the sign inside
        "The proposed site for the data centre. Photograph: Anna Novak/The Courier",
        "Doctors on a picket line outside the hospital last year. Pic: PA",
        "The accused arriving at the State Courts on March 14. HT PHOTO: ANNA NOVAK",
        "Containers stacked at the terminal. (Photo: Courier Images / Anna Novak)",
        "Residents clear mud from a street on Friday. | KYODO",
        "Floodwater covers the highway on Wednesday afternoon. (Courier North: Anna Novak)",
        "Source: The Harbour Times © Harbour Media Limited. Permission required for reproduction.",
        # the page's buttons, labels, links boxes and time stamps
        "Share",
        "Loading...",
        "SKIP ADVERTISEMENT",
        "Share full article",
        "Order Reprints",
        "4-Minute Listen",
        "5 min",
        "Heard on Morning Edition",
        "Story continues below advertisement",
        "Also Read | Harbour election 2024: phase two polling on November 20",
        "Read more in The Courier: Inside the port's plan to rescue the railways",
        "Go deeper: States race to write their own rules",
        "Supreme Court / Harbour State / police / judiciary (system of justice) / human rights",
        "Thu Nov 21 2024 - 18:45",
        "Tuesday 15 July 2025 18:21, UK",
        "Published - October 08, 2024 09:47 pm IST - NEW DELHI",
        "Anna Novak / HNS / Updated: Nov 13, 2024, 23:41 IST",
        "DM",
        # tips, comments, forms, players, appeals, navigation bars (a second battery of outlets)
        "Have a tip? Contact this reporter via email at anovak@courier.com or Signal at anovak.01.",
        "Share or comment on this article:",
        "The comments below have not been moderated.",
        "Join our commenting forum",
        "Email (required)",
        "I would like to be emailed about offers, events and updates from the Courier.",
        "Press play to listen to this article",
        "Voiced by artificial intelligence.",
        "The audio version of this article is generated by AI-based technology. Mispronunciations can occur.",
        "Powered by automated translation",
        "Members get exclusive access to premium articles, newsletters and more. Become a Member",
        "This article has been updated.",
        "This article is part of Courier Pro",
        "GAMBLING can be addictive. Please play responsibly.",
        "TEXT AD: Call Willie - +2348098788999",
        "Courier Mag Campaign AD",
        "The Courier’s journalism is free, but it isn’t free to produce. Will you support our work with a gift today?",
        "Good journalism costs a lot of money. Yet only good journalism can hold power to account.",
        "For continued free access to the best journalism we ask you to consider modest support.",
        "Help safeguard press freedom and keep the Courier free by supporting our team",
        "Support THE COURIER's journalism of integrity and credibility",
        "With files from The Canadian Press",
        "Anna Novak · Courier News · Posted: Mar 15, 2025 4:00 AM EDT | Last Updated: March 15, 2025",
        "Court Reporter",
        "Share: Facebook Twitter LinkedIn Email",
        "Support the Courier  |  Policies & Ethics  |  Error/typo?  |  Contact Us  |  Newsletter",
        "Corrections and clarifications | Submit a news tip | Report error",
        "West Kowloon Law Courts Building. Photo: Anna Novak/Courier.",
        "Read next",
        "Gift",
        "Sign Up",
        "WhatsApp",
        "5",
        # stop 20: a third battery (controls, reactions asked for, wire marks, addresses, tags, credits, captions)
        "Hide Ad",
        "Stock Chart Icon",
        "Go to video",
        "Copy to clipboard",
        "Copied",
        "Add a comment",
        "Go to accessibility shortcuts",
        "Normal text sizeLarger text sizeVery large text size",
        "Share Article via Email",
        "Keywords",
        "Do you like the content of this article?",
        "How does this make you feel?",
        "Want to join the conversation? Please or to comment on this article.",
        "(ATTN: ADDS comments from industry, analysts in paras 8-11)",
        "(END)",
        "anovak@courier.co.kr",
        "#exports #semiconductors #trade ministry",
        "Related search: stimulus package, public debt, Bank of Thailand",
        "Copy/paste the article video embed link below:",
        "– Courier.com",
        "Additional sources • AFP",
        "with AFP",
        "WRITER: Anna Novak",
        "Advertise with Courier Media.",
        "This is AI generated summarization, which may have errors. For context, always refer to the full article.",
        "Planes wait on the tarmac at the airport on Tuesday.Anna Novak / Getty Images",
        "The plant's chief executive in 2024. Anna Novak/Bloomberg via Getty Images",
        "The president speaks at a news conference in Tokyo on March 21. (Photo by Anna Novak)",
        "The commissioner says competition has not improved. Photo / Anna Novak",
        "Last updated: 02/04 - 17:35",
        "Update : 04.04.2025",
        "By Courier",
        "Published by Courier Newspapers Ltd",
        "Part of the Courier, The Courier on Sunday & Harbour Media Group",
        "For continued free access we ask you to consider making a modest support to this noble endeavour.",
    ],
)
def test_furniture_of_outlets_the_corpus_lacks_goes(line: str) -> None:
    assert clean_text(f"The story begins.\n\n{line}\n\nThe story goes on.", RULES) == (
        "The story begins.\n\nThe story goes on."
    )


def test_a_links_box_goes_with_its_headlines_and_the_story_after_it_stays() -> None:
    text = (
        "The story begins.\n\nMost Read from the Courier\n\nWall Street’s Favorite Hedge Is Suddenly Breaking Down\n\n"
        "Can the Port Survive Another Winter?\n\nThe story goes on after the box with a sentence of the story.\n\nMore to Read\n\n"
        "Harbour residents weigh rebuilding as insurance costs soar\n\n“We will rebuild,” the mayor said."
    )
    assert clean_text(text, RULES) == (
        "The story begins.\n\nThe story goes on after the box with a sentence of the story.\n\n“We will rebuild,” the mayor said."
    )


@pytest.mark.parametrize(
    "text",
    [
        "For more than a decade, families have had to visit the prison to follow the case.",
        "For the latest figures, the ministry said, visit its website.",
        "Investigators are still working to learn more.",
        "“We want to hear from you,” the mayor told residents on Monday.",
        "Thousands joined the conversation online after the speech.",
        "The transcript was produced by the court on Friday and shows 12 exchanges.",
        "Updates with the latest figures are expected on Monday, officials said.",
        "The report appeared in print on Monday, a day after the vote.",
        "In other news, the mayor resigned.",
        "More in the coming days, the minister said.",
        "He posted a video: the clip showed soldiers near the bridge.",
        "The minister said on Tuesday 15 July 2025 that talks would resume.",
        "Published on October 8, 2024, the report found 12 cases.",
        "The vote was held on Nov 21 2024 at 18:45 in Kyiv, officials said.",
        "Anna Novak, a reporter, was detained in Minsk on Monday.",
        "Follow-up talks on Signal ended without a deal.",
        "The comments were made on Monday, officials said.",
        "Members of parliament voted 300 to 12 on Tuesday.",
        "He is part of the team that wrote the report, the ministry said.",
        "The players will support our team, the coach said.",
        "He posted a photo: the building was destroyed.",
        "Ad hoc talks resumed in Geneva on Monday.",
        "Trade fell by half in 2022/2023 / officials said.",
        "The end of the war is not in sight, the minister said.",
        "With AFP reporting that talks had stalled, markets fell.",
        "Sources close to the talks said no deal was near.",
        "The photo by a local reporter went around the world.",
        "Summary executions were reported in the town, the UN said.",
        "By Tuesday the talks had failed.",
        "The vote on 04.04.2025 was close, officials said.",
        "In 2019/20 the budget grew by 4%.",
        "The paper is part of the Harbour Media Group, which was sold in 2018.",
        "It was published by Penguin Random House in 2019.",
    ],
)
def test_story_lines_near_the_rules_for_other_outlets_stay(text: str) -> None:
    assert clean_text(f"Lead.\n\n{text}\n\nMore.", RULES) == f"Lead.\n\n{text}\n\nMore."


def test_short_unfinished_lines_next_to_furniture_go_but_a_sub_heading_between_paragraphs_stays() -> None:
    story = [f"The council met on day {n} of the session and voted on the harbour bridge plan." for n in range(7)]
    text = (
        f"{story[0]}\n\nHarbour residents weigh rebuilding as costs soar\n\nWhy the port lost its biggest customer"
        f"\n\n{story[1]}\n\nRescuers at the site of the collapse on Thursday\n\nAdvertisement\n\n{story[2]}\n\n"
        f"Marathon peace talks\n\n{story[3]}\n\nKYIV, Ukraine —\n\n{story[4]}\n\n1) The first point of the plan"
        f"\n\n2) The second point of the plan\n\n{story[5]}\n\n{story[6]}"
    )
    cleaned = clean_text(text, RULES)
    # two headlines of other stories side by side, a caption above the advertisement's label: gone
    assert "Harbour residents weigh" not in cleaned and "Why the port lost" not in cleaned
    assert "Rescuers at the site" not in cleaned
    # a sub-heading alone between paragraphs, a dateline, a list's items: story
    for kept in ("Marathon peace talks", "KYIV, Ukraine —", "1) The first point", "2) The second point"):
        assert kept in cleaned
    assert all(sentence in cleaned for sentence in story)
    # under an advert, a short line heading a story paragraph is a sub-heading (not a links box's headline)
    text = f"{story[0]}\n\nAdvertisement\n\nLawmakers demand answers\n\n{story[1]}"
    assert clean_text(text, RULES) == f"{story[0]}\n\nLawmakers demand answers\n\n{story[1]}"


def test_text_wrapped_at_a_fixed_width_is_no_run_of_short_lines() -> None:
    text = (
        "Police said the first officers arrived\nat the hotel within minutes of the\nfirst shots being fired "
        "and the\nsheriff later revised the timeline.\n\nThe inquiry goes on."
    )
    assert clean_text(text, RULES) == text


def test_a_bylines_name_and_labels_above_the_story_go_but_the_same_lines_below_it_stay() -> None:
    rules = BoilerplateRules.from_data(
        read_toml(DATA_DIR / "enrich_boilerplate.toml"), AGENCIES.names, given_names={"jane"}
    )
    story = "The council voted on Tuesday to close the harbour to cargo ships for the whole of the coming winter."
    assert clean_text(f"Business\n\nJane Doe\n\n{story}", rules) == story
    # a name the table does not know: beside a role's label it is the byline too
    assert clean_text(f"Wanjiru Kamau\n\nReporter\n\n{story}", rules) == story
    # below the first paragraph: a signature and a sub-heading are story
    text = f"{story}\n\nJane Doe\n\nHarbour\n\n{story}"
    assert clean_text(text, rules) == text
    # a section's heading of small words stays
    assert clean_text(f"The News\n\n{story}", rules) == f"The News\n\n{story}"


def test_every_keyed_rule_is_tried_on_a_line_holding_its_word() -> None:
    # a line tries the rules filed under the words it holds: each rule is filed under each of its words
    filed = dict(RULES.keyed_words)
    for words, pattern in RULES.keyed_lines:
        assert words and all(pattern in filed[w] for w in words)
    assert clean_text("Story.\n\nJane Doe contributed to this report.", RULES) == "Story."
    assert clean_text("Story.\n\nWe use cookies. Accept cookies to continue.", RULES) == "Story."
    assert clean_text("Story.\n\nThis text may contain errors, check against delivery.", RULES) == "Story."


def test_a_keyed_rule_without_a_word_is_tried_on_every_line() -> None:
    data = {"lines": [{"needs": "", "pattern": "always furniture"}], "fragments": [], "link_lines": ["x^"]}
    rules = BoilerplateRules.from_data(data)
    assert dict(rules.keyed_words) == {"": (rules.keyed_lines[0][1],)}
    assert clean_text("Story.\n\nAlways furniture", rules) == "Story."
