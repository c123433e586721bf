"""Staff search: reports by reference, address (street, number, postcode, place) or words of the description,
over the reports the staff member may see, with filters that live in the URL (a search can be bookmarked and
shared). Plain functions over the session; the view only parses the URL and renders.

The words are matched as parts of words ("westerdok" finds Westerdoksdijk), case-insensitively, through the
index of migration 0009: a trigram GIN index over one expression on PostgreSQL, an FTS5 trigram table on SQLite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from sqlalchemy import String, and_, column, func, literal_column, or_, select, table, text
from sqlalchemy.orm import selectinload

from meldingen.categories.models import Category
from meldingen.db import is_sqlite
from meldingen.extensions import db
from meldingen.organisations.models import Department
from meldingen.reports.access import scope_reports
from meldingen.reports.models import Report, Status
from meldingen.reports.references import REFERENCE_PATTERN

PAGE_SIZE = 50
# Counting every hit of a common word over a million reports costs more than it tells: past this, "more than".
COUNT_LIMIT = 1000
MAX_TERMS = 8
MAX_TERM_LENGTH = 60
# The trigram indexes need three characters; shorter terms only narrow what longer ones found.
MIN_INDEXED_LENGTH = 3

HOUSE_NUMBER = re.compile(r"^\d{1,5}[a-z]?$")
POSTCODE = re.compile(r"\b([1-9]\d{3})\s?([A-Za-z]{2})\b")
WORD = re.compile(r"[\w'-]+", re.UNICODE)

# Must equal the indexed expression of migration 0009 on PostgreSQL, character for character.
SEARCH_TEXT_SQL = (
    "(coalesce(reference, '') || ' ' || coalesce(address_street, '') || ' ' || coalesce(address_number, '') "
    "|| ' ' || coalesce(address_postcode, '') || ' ' || coalesce(address_city, '') || ' ' "
    "|| coalesce(address_text, '') || ' ' || coalesce(description, ''))"
)


class SearchTooShort(ValueError):
    """A search without a reference and without any term of three characters or more (it would read everything)."""


@dataclass
class SearchTerms:
    references: list[str]
    words: list[str]

    @property
    def empty(self) -> bool:
        return not self.references and not self.words


def parse_query(q: str) -> SearchTerms:
    """What was typed, as references ('m-7k3q9x', 'M7K3Q9X') and lower-case words; a postcode with a space
    ('1013 AE') becomes one word as it is stored ('1013ae')."""
    q = (q or "")[:300]
    references = [f"M-{m.group(1).upper()}" for m in REFERENCE_PATTERN.finditer(q)]
    rest = REFERENCE_PATTERN.sub(" ", q)
    rest = POSTCODE.sub(lambda m: f" {m.group(1)}{m.group(2)} ", rest)
    words = []
    for word in WORD.findall(rest.lower()):
        word = word.strip("'-")[:MAX_TERM_LENGTH]
        if word and word not in words:
            words.append(word)
    return SearchTerms(references=references[:MAX_TERMS], words=words[:MAX_TERMS])


def clean_text(value) -> str:
    """What a URL or form gave, without NUL and unpaired surrogates (PostgreSQL refuses both), trimmed."""
    text_ = (value or "").replace("\x00", "")
    return text_.encode("utf-8", "ignore").decode("utf-8").strip()


@dataclass
class SearchFilter:
    """The search and its filters; every field is a URL query parameter, so a search is a link."""

    q: str = ""
    state: str = ""  # "" (all), "open", "closed" or one status code
    category: str = ""  # main or sub category slug
    department: str = ""  # department code
    area: str = ""  # municipality, district or neighbourhood code
    assignee: str = ""  # "me", "none" or a staff id
    page: str = "1"

    @classmethod
    def from_args(cls, args) -> SearchFilter:
        values = {f.name: clean_text(args.get(f.name))[:300 if f.name == "q" else 60] for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if v})

    def as_args(self, **changes) -> dict:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return {k: v for k, v in values.items() if v and not (k == "page" and str(v) == "1")}

    @property
    def page_number(self) -> int:
        # Bounded: a page past what COUNT_LIMIT can show is the last one that can.
        if not self.page.isdigit():
            return 1
        return max(1, min(int(self.page[:6]), COUNT_LIMIT // PAGE_SIZE + 1))

    @property
    def is_blank(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self) if f.name != "page")


# The same with the columns qualified, for queries that join the FTS5 table (whose columns bear the same names);
# PostgreSQL matches the index on the parsed expression, so qualified columns still use it.
QUALIFIED_SEARCH_TEXT_SQL = SEARCH_TEXT_SQL.replace("coalesce(", "coalesce(reports.")


def search_text_expression():
    return literal_column(QUALIFIED_SEARCH_TEXT_SQL, type_=String)


def _like_pattern(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def house_number_matches(number: str, address_number=None):
    """The house number as typed ("40", "40a"): that number, with any letter or addition ("40" finds 40, 40A and
    40-2, not 400). An equality and two prefixes on one column: cheap on the rows the street already found."""
    column_ = func.lower(Report.address_number if address_number is None else address_number)
    if not number[-1].isdigit():
        return or_(column_ == number, column_.like(number + "-%"))
    return or_(column_ == number, column_.like(number + "-%"), column_.like(number + " %"),
               and_(func.length(column_) == len(number) + 1,
                    func.substr(column_, len(number) + 1, 1).between("a", "z"), column_.like(number + "_")))


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


FTS = table("reports_search", column("rowid"))


def match_terms(query, terms: SearchTerms):
    """Restrict a select over Report to the reports that hold every word (and one of the references).

    Answers the query and the column to order by, newest first: on SQLite the FTS5 table drives the query in
    its own rowid order (the report's id), so the first page of a common word is read without collecting all
    its hits; on PostgreSQL the planner chooses between the trigram index and walking the ids backwards.
    """
    order = Report.id
    if terms.references:
        query = query.where(Report.reference.in_(terms.references))
    if not terms.words:
        return query, order
    words = [w for w in terms.words if not HOUSE_NUMBER.match(w)]
    numbers = [w for w in terms.words if HOUSE_NUMBER.match(w)]
    if not any(len(w) >= MIN_INDEXED_LENGTH for w in words):
        # Numbers alone ("1013", "250") are searched as text; with a street they are its house number.
        words, numbers = terms.words, []
    # A house number long enough for the index narrows through it too ("123" lies in "123A"; the address
    # condition below then refuses 1234).
    indexed = [w for w in words if len(w) >= MIN_INDEXED_LENGTH] + [n for n in numbers
                                                                   if len(n) >= MIN_INDEXED_LENGTH]
    short = [w for w in words if len(w) < MIN_INDEXED_LENGTH]
    if not indexed and not terms.references:
        raise SearchTooShort("Typ minstens drie tekens, of een meldingnummer.")
    if indexed:
        if is_sqlite(db.session):
            expression = " AND ".join(_fts_phrase(w) for w in indexed)
            query = query.join(FTS, FTS.c.rowid == Report.id).where(
                text("reports_search MATCH :fts_expression").bindparams(fts_expression=expression))
            order = FTS.c.rowid
        else:
            query = query.where(and_(*(search_text_expression().ilike(_like_pattern(w), escape="\\")
                                       for w in indexed)))
    for word in short:
        # A letter or two: the whole word among the address fields, or part of the text.
        query = query.where(or_(func.lower(Report.address_number) == word,
                                search_text_expression().ilike(_like_pattern(word), escape="\\")))
    for number in numbers:
        query = query.where(house_number_matches(number))
    return query, order


def search_query(staff, flt: SearchFilter):
    """select(Report) of what the filter finds among the reports the staff member may see, and the column that
    orders it newest first (descending ids: the order in which reports came in)."""
    query = scope_reports(select(Report), staff)
    terms = parse_query(flt.q)
    query, order = match_terms(query, terms)
    if flt.state == "open":
        query = query.where(Report.closed_at.is_(None))
    elif flt.state == "closed":
        query = query.where(Report.closed_at.is_not(None))
    elif flt.state:
        query = query.where(Report.status == flt.state)
    if flt.category:
        parent = Category.__table__.alias("parent")
        query = query.where(Report.category_id.in_(
            select(Category.id).outerjoin(parent, Category.parent_id == parent.c.id)
            .where(or_(Category.slug == flt.category, parent.c.slug == flt.category))))
    if flt.department:
        query = query.where(Report.department_id.in_(select(Department.id).where(Department.code == flt.department)))
    if flt.area:
        query = query.where(or_(Report.municipality_code == flt.area, Report.district_code == flt.area,
                                Report.neighbourhood_code == flt.area))
    if flt.assignee == "me":
        query = query.where(Report.assignee_id == staff.id)
    elif flt.assignee == "none":
        query = query.where(Report.assignee_id.is_(None))
    elif flt.assignee.isdigit():
        query = query.where(Report.assignee_id == int(flt.assignee[:9]))
    return query, order


@dataclass
class SearchResult:
    reports: list[Report]
    total: int  # capped at COUNT_LIMIT
    more: bool  # more than COUNT_LIMIT found
    pages: int


def search_reports(staff, flt: SearchFilter) -> SearchResult:
    """One page of results, newest first, and how many there are (up to COUNT_LIMIT). Raises SearchTooShort."""
    query, order = search_query(staff, flt)
    rare = not is_sqlite(db.session) and words_are_rare_lately(parse_query(flt.q))
    if rare:
        # Few recent reports hold these words: walking the ids backwards would read the whole table to find
        # them (the planner cannot know that two common words rarely meet). Collect the hits from the trigram
        # index instead, then sort them.
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        order = Report.id + 0
    try:
        capped = db.session.scalar(select(func.count()).select_from(
            query.with_only_columns(Report.id).order_by(order.desc()).limit(COUNT_LIMIT + 1).subquery()))
        total = min(capped, COUNT_LIMIT)
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(flt.page_number, pages)
        reports = db.session.scalars(query.order_by(order.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
                                     .options(selectinload(Report.category), selectinload(Report.department),
                                              selectinload(Report.assignee))).all()
    finally:
        if rare:
            db.session.execute(text("SET LOCAL enable_seqscan TO DEFAULT"))
    return SearchResult(reports=reports, total=total, more=capped > COUNT_LIMIT, pages=pages)


# How many of the newest reports the PostgreSQL plan choice looks at, and how many of them must hold the words
# for "newest first, stop at a thousand" to be the quick way (then a thousand hits lie within ~40,000 reports).
RECENT_PROBE = 2000
RECENT_HITS_FOR_BACKWARD_SCAN = 50


def words_are_rare_lately(terms: SearchTerms) -> bool:
    """PostgreSQL only: do fewer than RECENT_HITS_FOR_BACKWARD_SCAN of the newest RECENT_PROBE reports hold
    all the words (and the house number)? A cheap, deterministic look (2,000 rows by primary key) before
    choosing the plan."""
    indexed = [w for w in terms.words if len(w) >= MIN_INDEXED_LENGTH and not HOUSE_NUMBER.match(w)]
    if not indexed or terms.references:
        return False
    numbers = [w for w in terms.words if HOUSE_NUMBER.match(w)]
    recent = select(Report.__table__).order_by(Report.id.desc()).limit(RECENT_PROBE).subquery("reports")
    conditions = [search_text_expression().ilike(_like_pattern(w), escape="\\") for w in indexed]
    conditions += [house_number_matches(n, recent.c.address_number) for n in numbers]
    hits = db.session.scalar(select(func.count()).select_from(recent).where(and_(*conditions)))
    return hits < RECENT_HITS_FOR_BACKWARD_SCAN


def status_choices() -> list[tuple[str, str]]:
    return [(s.code, s.name) for s in db.session.scalars(select(Status).order_by(Status.position, Status.code))]
