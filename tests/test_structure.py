"""Document structure at ingest: real files of every format through the real loaders, one table per feature.

Reflow (hard-wrapped lines, hyphenation, page furniture), headings in plain text and in PDFs (fonts, outline),
lists (nesting, lead-ins) and titles. Each row writes a small file, loads it with :func:`load_file` and checks
the Markdown the splitter will see.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.services import get_services
from ingest.loaders import load_file
from ingest.splitter import SECTION_SEPARATOR, split_markdown

BODY = 11
HEADING_SIZES = {1: 20, 2: 15, 3: BODY}  # level 3 is told from the body by weight alone


def pdf_file(
    path: Path,
    parts: list[tuple[str, str]],
    *,
    title: str | None = None,
    header: str | None = None,
    footer: bool = False,
    outline: bool = False,
) -> Path:
    """A PDF of ``(kind, text)`` parts: ``h1``–``h3`` headings, ``p`` paragraphs (``\\n`` = a line break), ``page``.

    Headings are bigger and bold, or, with ``outline``, set like the body and named only by bookmarks.
    """
    from fpdf import FPDF

    class Document(FPDF):
        def header(self) -> None:
            if header:
                self.set_font("helvetica", size=9)
                self.cell(0, 8, header, new_x="LMARGIN", new_y="NEXT")
                self.ln(4)

        def footer(self) -> None:
            if footer:
                self.set_y(-15)
                self.set_font("helvetica", size=9)
                self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")

    pdf = Document()
    if title:
        pdf.set_title(title)
    pdf.add_page()
    for kind, text in parts:
        if kind == "page":
            pdf.add_page()
            continue
        if kind.startswith("h") and outline:
            pdf.start_section(text, level=int(kind[1]) - 1)
            pdf.set_font("helvetica", size=BODY)
        elif kind.startswith("h"):
            pdf.set_font("helvetica", "B", HEADING_SIZES[int(kind[1])])
        else:
            pdf.set_font("helvetica", size=BODY)
        # Headings are set 1.2 × their type size apart, as typesetters do (in mm: 1 pt = 0.3528 mm).
        step = HEADING_SIZES[int(kind[1])] * 1.2 * 0.3528 if kind.startswith("h") and not outline else 6
        pdf.multi_cell(0, max(step, 6), text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.output(str(path))
    return path


def docx_file(path: Path, parts: list[tuple[str, str]], title: str | None = None) -> Path:
    """A Word file of ``(style, text)`` paragraphs."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for style, text in parts:
        document.add_paragraph(text, style=style)
    document.save(str(path))
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def headings(markdown: str) -> list[tuple[int, str]]:
    return [(len(m.group(1)), m.group(2)) for m in re.finditer(r"^(#{1,6}) (.+)$", markdown, flags=re.M)]


LONG = (
    "The council publishes its social value outcomes every year so that residents can see what their contracts "
    "deliver. Each supplier reports the jobs, apprenticeships and local spend it has achieved against the "
    "commitments it made in its tender, and the council checks the figures before they are published. "
)

# ---------------------------------------------------------------------------------------------------- reflow

REFLOW = [
    pytest.param(
        "txt",
        "The council will meet the cost of the works described above [1]\n"
        "50,000 pounds in each year of the contract, paid quarterly in arrears.\n",
        ["above [1] 50,000 pounds in each year"],
        [],
        id="hard-wrapped-text-joined",
    ),
    pytest.param(
        "txt",
        "Good governance matters. The framework for public sector gover-\n"
        "nance sets out seven principles that councils apply every year.\n",
        ["public sector governance sets out"],
        ["gover-"],
        id="hyphenation-undone-when-the-document-spells-the-word-whole",
    ),
    pytest.param(
        "txt",
        "Suppliers report on resident well-being. Each contract has a well-\n"
        "being measure agreed with the council before the contract starts.\n",
        ["a well-being measure"],
        ["wellbeing"],
        id="real-hyphen-kept-when-the-document-spells-it-hyphenated",
    ),
    pytest.param(
        "txt",
        "A package must not declare a Build-Depends or a Pre-\nDepends field on a package outside the main area.\n",
        ["a Pre-Depends field"],
        [],
        id="plain-text-wrappers-never-add-hyphens",
    ),
    pytest.param(
        "txt",
        "\f".join(
            f"Borough Council - Procurement Policy\n\n{body}\n\nPage {n} of 3\n"
            for n, body in enumerate(
                [
                    "Contracts over the threshold are advertised. For each contract the supplier must",
                    "publish its social value plan within ninety days of the award.\n\nPlans are reviewed.",
                    "The policy is reviewed every three years by the cabinet.",
                ],
                start=1,
            )
        ),
        ["the supplier must publish its social value plan"],
        ["Borough Council - Procurement Policy", "Page 2 of 3"],
        id="text-page-headers-footers-dropped-and-paragraph-joined-over-the-break",
    ),
    pytest.param(
        "pdf",
        [("p", LONG * 9), ("page", ""), ("p", "The annual report is reviewed by the audit committee.")],
        [LONG.strip() + " " + LONG.strip()],
        ["Annual Report of the Council", "Page 1 of", "Page 2 of"],
        id="pdf-running-header-and-page-footer-dropped-paragraph-runs-over-pages",
    ),
    pytest.param(
        "pdf",
        [("p", "Boards review the gover-\nnance of every programme and its\nrisks each quarter.")],
        ["review the governance of every programme and its risks each quarter."],
        ["gover-"],
        id="pdf-typesetter-hyphenation-undone",
    ),
]


@pytest.mark.parametrize(("kind", "content", "present", "absent"), REFLOW)
def test_reflow(tmp_path: Path, kind: str, content, present: list[str], absent: list[str]) -> None:
    if kind == "pdf":
        path = pdf_file(tmp_path / "doc.pdf", content, header="Annual Report of the Council", footer=True)
    else:
        path = write(tmp_path / "doc.txt", content)
    text = load_file(path).text
    for fragment in present:
        assert fragment in text
    for fragment in absent:
        assert fragment not in text


# -------------------------------------------------------------------------------------- plain-text headings

TEXT_HEADINGS = [
    pytest.param(
        "1. Introduction\n\nThis policy sets out the rules.\n\n2. General rules\n\nSuppliers must register.\n\n"
        "2.1. Registration\nRegistration is online and free of charge.\n\n3 Scope\n\nAll contracts.\n",
        [(1, "1. Introduction"), (1, "2. General rules"), (2, "2.1. Registration"), (1, "3 Scope")],
        id="numbered",
    ),
    pytest.param(
        "Part 1: Governance\n\nHow the council is run.\n\nChapter 4\n\nDecisions.\n\nAnnex A - Forms\n\nForm text.\n",
        [(1, "Part 1: Governance"), (2, "Chapter 4"), (2, "Annex A - Forms")],
        id="divisions",
    ),
    pytest.param(
        "Social Value Policy\n===================\n\nIntro.\n\nOutcomes\n--------\n\nJobs.\n\n"
        "Measures\n~~~~~~~~\n\nCount them.\n",
        [(1, "Social Value Policy"), (2, "Outcomes"), (3, "Measures")],
        id="underlined",
    ),
    pytest.param(
        "GENERAL PROVISIONS\n\nThese apply to every contract.\n\nPAYMENT TERMS\n\nInvoices are paid in 30 days.\n",
        [(1, "GENERAL PROVISIONS"), (1, "PAYMENT TERMS")],
        id="all-caps",
    ),
    pytest.param(
        "Annual plan 2025\n\n" + " " * 33 + "Waste Strategy\n\nThe council collects waste every week from every "
        "household in the borough, and\nrecycles more of it each year than the year before.\n",
        [(1, "Annual plan 2025"), (2, "Waste Strategy")],
        id="opening-line-and-centred",
    ),
    pytest.param(
        "Suppliers must:\n\n1. Register online\n\n2. Report quarterly\n\nThe register is public. It is\n"
        "reviewed each year. ANNUAL REVIEW of the register happens in May, and the results\nare published.\n",
        [],
        id="list-items-and-sentences-are-not-headings",
    ),
    pytest.param(
        "Summary¶\n\nWhat the policy does.\n\nContents¶\n\n1. Waste collection¶\n\n1.1. Bins¶\n\nGrey bins weekly.\n\n"
        "1.2. Garden waste¶\n\nBrown bins fortnightly.\n\n2. Street cleaning¶\n\nEvery road monthly.\n",
        [
            (1, "Summary"),
            (1, "1. Waste collection"),
            (2, "1.1. Bins"),
            (2, "1.2. Garden waste"),
            (1, "2. Street cleaning"),
        ],
        id="permalink-marks-of-a-documentation-generator",
    ),
]


@pytest.mark.parametrize(("content", "expected"), TEXT_HEADINGS)
def test_plain_text_headings(tmp_path: Path, content: str, expected: list[tuple[int, str]]) -> None:
    assert headings(load_file(write(tmp_path / "policy.txt", content)).text) == expected


def test_plain_text_headings_give_chunks_their_path(tmp_path: Path) -> None:
    text = (
        f"Procurement Rules\n=================\n\n1. General rules\n\n{LONG}\n\n"
        f"1.1. Registration\n\nRegistration is online. {LONG}\n"
    )
    doc = load_file(write(tmp_path / "rules.txt", text))
    count = get_services(Settings()).embeddings.count_tokens
    sections = {chunk.section for chunk in split_markdown(doc.text, doc.title, count, max_tokens=96)}
    assert SECTION_SEPARATOR.join(["Procurement Rules", "1. General rules", "1.1. Registration"]) in sections


BODY_SECTIONS = "".join(
    f"{title}\n{'-' * len(title)}\n\n{LONG}\n\n" for title in ("1. Scope", "2. Duties", "3. Payment")
)


@pytest.mark.parametrize(
    "contents",
    [
        pytest.param("Contents\n\n* 1. Scope\n* 2. Duties\n* 3. Payment\n\n", id="bulleted-contents"),
        pytest.param("CONTENTS\n\n1. Scope\n\n2. Duties\n\n3. Payment\n\n", id="bare-contents-lines"),
        pytest.param("Contents\n\n1. Scope ........ 2\n2. Duties ....... 3\n3. Payment ...... 4\n\n", id="leaders"),
    ],
)
def test_a_table_of_contents_is_dropped(tmp_path: Path, contents: str) -> None:
    text = load_file(write(tmp_path / "policy.txt", contents + BODY_SECTIONS)).text
    assert headings(text)[-3:] == [(1, "1. Scope"), (1, "2. Duties"), (1, "3. Payment")]
    assert text.count("Scope") == 1 and text.count("Payment") == 1


BREADCRUMBS = "Navigation\n\n* Home »\n* Waste_Services »\n* Waste Services Handbook\n\n"


def test_a_breadcrumb_trail_is_dropped_and_names_the_document(tmp_path: Path) -> None:
    body = "1. Bins¶\n\nGrey bins are emptied every week.\n\n"
    doc = load_file(write(tmp_path / "handbook.txt", f"{BREADCRUMBS}{body}{BREADCRUMBS}"))
    assert "»" not in doc.text and "Navigation" not in doc.text and "Home" not in doc.text
    assert doc.title == "Waste Services Handbook"
    assert headings(doc.text) == [(1, "Waste Services Handbook"), (1, "1. Bins")]


def test_a_list_of_links_that_is_no_trail_stays(tmp_path: Path) -> None:
    text = load_file(write(tmp_path / "links.txt", "Intro text.\n\nSee also:\n\n* Bins\n* Recycling »\n")).text
    assert "- Bins" in text and "See also:" in text


# ---------------------------------------------------------------------------------------------- PDF headings

PDF_PARTS = [
    ("h1", "Waste Strategy"),
    ("p", "The council collects waste from every household each week."),
    ("h2", "Collections"),
    ("p", "Bins are emptied on the same day each week."),
    ("h3", "Garden waste"),
    ("p", "Garden waste is collected in the summer months."),
    ("h2", "Recycling"),
    ("p", "Recycling rates are published every quarter."),
]
EXPECTED_PDF = [(1, "Waste Strategy"), (2, "Collections"), (3, "Garden waste"), (2, "Recycling")]

PDF_HEADINGS = [
    pytest.param(False, id="bigger-and-bold-type"),
    pytest.param(True, id="outline-bookmarks-with-headings-set-like-the-body"),
]


@pytest.mark.parametrize("outline", PDF_HEADINGS)
def test_pdf_headings(tmp_path: Path, outline: bool) -> None:
    text = load_file(pdf_file(tmp_path / "waste.pdf", PDF_PARTS, outline=outline)).text
    assert headings(text) == EXPECTED_PDF
    assert "Bins are emptied on the same day each week." in text


def test_a_pdf_heading_that_wraps_stays_one_heading(tmp_path: Path) -> None:
    wrapped = "2. Recovering collections missed because of severe weather or road closures"
    parts = [("h1", "1. Waste Strategy"), ("p", LONG), ("h1", wrapped), ("h1", "3. Recycling"), ("p", "Rates.")]
    text = load_file(pdf_file(tmp_path / "waste.pdf", parts)).text
    assert headings(text) == [(1, "1. Waste Strategy"), (1, wrapped), (1, "3. Recycling")]


# ------------------------------------------------------------------------------------------------------ lists

LISTS = [
    pytest.param(
        "txt",
        "The supplier must:\n(a) pay the real living wage;\n(b) report each quarter on:\n"
        "    (i) apprenticeships started; and\n    (ii) spend with local firms.\n",
        "The supplier must:\n- (a) pay the real living wage;\n- (b) report each quarter on:\n"
        "    - (i) apprenticeships started; and\n    - (ii) spend with local firms.",
        id="text-nested-lettered-with-lead-in",
    ),
    pytest.param(
        "txt",
        "Bidders should describe the following: (a) jobs for local people; (b) training; and (c) carbon savings.\n",
        "Bidders should describe the following:\n- (a) jobs for local people;\n- (b) training; and\n"
        "- (c) carbon savings.",
        id="text-list-inside-a-sentence",
    ),
    pytest.param(
        "txt",
        "Tenders are scored in three stages:\n\n1. a compliance check of the documents\n   submitted by the bidder;\n\n"
        "2. a quality assessment; and\n\n3. a price evaluation.\n",
        "Tenders are scored in three stages:\n1. a compliance check of the documents submitted by the bidder;\n"
        "2. a quality assessment; and\n3. a price evaluation.",
        id="text-numbered-loose-with-wrapped-item",
    ),
    pytest.param(
        "txt",
        "Our priorities are\n\n* jobs\n  - apprenticeships\n  - graduate roles\n* skills\n",
        "Our priorities are\n- jobs\n    - apprenticeships\n    - graduate roles\n- skills",
        id="text-bullets-nested-by-indent-lead-in-mid-sentence",
    ),
    pytest.param(
        "txt",
        "Steps:\n1. Plan\n(a) set goals\n(b) agree the budget\n2. Deliver\n",
        "Steps:\n1. Plan\n    - (a) set goals\n    - (b) agree the budget\n2. Deliver",
        id="text-new-marker-style-at-same-indent-nests",
    ),
    pytest.param(
        "html",
        "<p>Measures include:</p><ul><li>Jobs<ul><li>Local hires</li></ul></li><li>Skills</li></ul>",
        "Measures include:\n- Jobs\n    - Local hires\n- Skills",
        id="html-nested",
    ),
    pytest.param(
        "html",
        "<p>Steps:</p><ol><li>Plan</li><li>Deliver</li></ol>",
        "Steps:\n1. Plan\n2. Deliver",
        id="html-ordered",
    ),
    pytest.param(
        "html",
        "<p>The following bins may be ordered.</p><ul><li>Grey: general waste.</li><li>Blue: recycling.</li></ul>",
        "The following bins may be ordered.\n- Grey: general waste.\n- Blue: recycling.",
        id="html-lead-in-that-announces-the-list",
    ),
    pytest.param(
        "html",
        "<p>Codes used:</p><table><thead><tr><th>Code</th><th>Meaning</th></tr></thead><tbody>"
        "<tr><td>GW</td><td>Garden waste, collected in summer.</td></tr><tr><td>RC</td><td>Recycling.</td></tr>"
        "</tbody></table>",
        "Codes used:\n- GW: Garden waste, collected in summer.\n- RC: Recycling.",
        id="html-two-column-table-as-definitions",
    ),
    pytest.param(
        "html",
        "<table><tr><th>Bin</th><th>Colour</th><th>Collected</th></tr><tr><td>General</td><td>grey</td>"
        "<td>weekly</td></tr></table>",
        "- General: Colour: grey; Collected: weekly",
        id="html-wider-table-labels-its-values",
    ),
    pytest.param(
        "html",
        "<p>Terms:</p><dl><dt>Resident</dt><dd><p>A person who lives in the borough, either:</p><dl>"
        "<dt>Owner</dt><dd>who owns the home</dd><dt>Tenant</dt><dd>who rents it</dd></dl></dd>"
        "<dt>Visitor</dt><dd>Anyone else.</dd></dl>",
        "Terms:\n- Resident: A person who lives in the borough, either:\n    - Owner: who owns the home\n"
        "    - Tenant: who rents it\n- Visitor: Anyone else.",
        id="html-definition-list-nested",
    ),
    pytest.param(
        "docx",
        [
            ("Normal", "Suppliers commit to:"),
            ("List Number", "Local jobs"),
            ("List Bullet 2", "Apprenticeships"),
            ("List Number", "Training"),
        ],
        "Suppliers commit to:\n1. Local jobs\n    - Apprenticeships\n2. Training",
        id="docx-list-styles",
    ),
    pytest.param(
        "pdf",
        [("p", "Contractors must:\n- keep records of every site visit;\n- report incidents within a day.")],
        "Contractors must:\n- keep records of every site visit;\n- report incidents within a day.",
        id="pdf-dashes-with-lead-in",
    ),
]


@pytest.mark.parametrize(("kind", "content", "expected"), LISTS)
def test_lists(tmp_path: Path, kind: str, content, expected: str) -> None:
    path = tmp_path / f"doc.{kind}"
    if kind == "pdf":
        pdf_file(path, content)
    elif kind == "docx":
        docx_file(path, content)
    else:
        write(path, content)
    assert expected in load_file(path).text


def test_a_long_list_stays_with_its_lead_in_and_can_be_put_back_together(tmp_path: Path) -> None:
    items = "\n".join(
        f"({chr(97 + i)}) report outcome number {i} to the contract board each quarter;" for i in range(20)
    )
    doc = load_file(write(tmp_path / "duties.txt", f"Duties\n======\n\nThe supplier must:\n{items}\n\nClosing.\n"))
    count = get_services(Settings()).embeddings.count_tokens
    chunks = split_markdown(doc.text, doc.title, count, max_tokens=96)
    in_list = [c for c in chunks if c.list_span]
    assert len(in_list) > 1 and in_list[0].text.startswith("The supplier must:\n- (a)")
    lo, hi = in_list[0].list_span
    assert all(c.list_span == (lo, hi) for c in in_list)
    rebuilt = "\n".join(c.text[max(lo - c.start, 0) : hi - c.start] for c in in_list)
    assert rebuilt.count("\n- (") == 20 and rebuilt.endswith("number 19 to the contract board each quarter;")
    assert not any(c.list_span for c in chunks if "Closing." in c.text and c.start >= hi)


# ------------------------------------------------------------------------------------------------------ title


def _title_file(tmp_path: Path, kind: str, content) -> Path:
    if kind == "pdf":
        parts, meta = content
        return pdf_file(tmp_path / "q3_report_final.pdf", parts, title=meta)
    if kind == "docx":
        parts, meta = content
        return docx_file(tmp_path / "q3_report_final.docx", parts, title=meta)
    return write(tmp_path / f"q3_report_final.{kind}", content)


TITLES = [
    pytest.param("md", "---\ntitle: Travel Policy\n---\n# Rail and air\n\nText.\n", "Travel Policy", id="front-matter"),
    pytest.param("md", "Intro line.\n\n# Travel Policy\n\nText.\n", "Travel Policy", id="markdown-first-heading"),
    pytest.param(
        "txt", "Travel Policy\n=============\n\nStaff travel by rail.\n", "Travel Policy", id="text-first-heading"
    ),
    pytest.param("txt", "Travel policy\n\nStaff travel by rail.\n", "Travel policy", id="text-opening-line-on-its-own"),
    pytest.param("txt", "Staff travel by rail.\n", "q3 report final", id="text-file-name-last-resort"),
    pytest.param(
        "pdf", ([("p", "Quarterly figures.")], "Q3 Performance Report"), "Q3 Performance Report", id="pdf-metadata"
    ),
    pytest.param(
        "pdf", ([("h1", "Q3 Performance Report"), ("p", "Figures.")], None), "Q3 Performance Report", id="pdf-heading"
    ),
    pytest.param(
        "pdf",
        ([("h1", "Q3 Performance Report"), ("p", "Figures.")], "Microsoft Word - q3_final.docx"),
        "Q3 Performance Report",
        id="pdf-metadata-left-by-the-authoring-tool-ignored",
    ),
    pytest.param(
        "html",
        "<html><head><title>Council Budget</title></head><body><h1>Budget 2025</h1><p>x</p></body></html>",
        "Council Budget",
        id="html-title",
    ),
    pytest.param("html", "<body><h1>Budget 2025</h1><p>Spending plans.</p></body>", "Budget 2025", id="html-h1"),
    pytest.param(
        "docx", ([("Normal", "Body text.")], "Social Value Plan"), "Social Value Plan", id="docx-core-properties"
    ),
    pytest.param(
        "docx", ([("Title", "Social Value Plan"), ("Normal", "Body.")], None), "Social Value Plan", id="docx-heading"
    ),
]


@pytest.mark.parametrize(("kind", "content", "expected"), TITLES)
def test_title(tmp_path: Path, kind: str, content, expected: str) -> None:
    assert load_file(_title_file(tmp_path, kind, content)).title == expected


def test_an_html_title_set_as_h2_heads_the_sections_beside_it(tmp_path: Path) -> None:
    page = (
        "<head><title>Budget Rules</title></head><body><h2>Budget Rules</h2><p>Intro.</p><h2>1. Scope</h2>"
        "<p>All spending.</p><h3>1.1. Capital</h3><p>Buildings.</p></body>"
    )
    text = load_file(write(tmp_path / "rules.html", page)).text
    assert headings(text) == [(1, "Budget Rules"), (2, "1. Scope"), (3, "1.1. Capital")]


def test_preformatted_lines_starting_with_a_hash_are_not_headings(tmp_path: Path) -> None:
    settings = "\n".join(f"# setting {n}\nround_{n} = monday" for n in range(40))
    page = f"<h1>Collections</h1><p>The settings file:</p><pre>{settings}</pre><h2>Notes</h2><p>{LONG}</p>"
    doc = load_file(write(tmp_path / "collections.html", page))
    count = get_services(Settings()).embeddings.count_tokens
    sections = {chunk.section for chunk in split_markdown(doc.text, doc.title, count, max_tokens=96)}
    assert sections == {"Collections", SECTION_SEPARATOR.join(["Collections", "Notes"])}


def test_a_chapter_page_that_opens_with_its_own_contents_keeps_its_body(tmp_path: Path) -> None:
    # As in the bzip2 manual: a chapter's first page lists its sections with leaders, then the text begins.
    chapter = (
        "2. Duties\n\nContents\n\n2.1. Scope ........ 2\n2.2. Synopsis ........ 2\n2.3. Payment ...... 3\n\n"
        "This chapter sets out the duties of every officer.\n\n2.1. Scope\n\nThe duties apply to all staff.\n\n"
        "2.2. Synopsis\n\nOfficers report each month.\n"
    )
    text = load_file(write(tmp_path / "manual.txt", f"Manual\n\nIntro text here.\n\f{chapter}")).text
    assert "This chapter sets out the duties of every officer." in text
    assert "Officers report each month." in text and "........" not in text
    assert "Contents" not in text
