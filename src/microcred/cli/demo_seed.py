"""`make demo`: a university, a bootcamp and an employer, 19 microcredentials aligned to ESCO skills with
their EU elements, and 200 learners with awards spread over the past months (some revoked, some expired,
some still to be claimed). Organisations and people are fictitious; the skills are real ESCO concepts."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from microcred import bootstrap
from microcred.config import Settings
from microcred.domain.microcredentials import MicrocredentialDefinition
from microcred.services.awarding import AwardRequest
from microcred.services.job_roles import RoleSkillIn
from microcred.services.taxonomy import TaxonomyService

PASSWORD = "microcred-demo-2026"  # noqa: S105 - the demo prints it; demo data only
LOGINS = (
    ("admin@demo.microcred.dev", "platform_admin", None, "Platform administrator (outbox, every organisation)"),
    ("registrar@northbridge.example", "issuer_admin", "northbridge", "Northbridge University, issuer admin"),
    ("staff@northbridge.example", "issuer_staff", "northbridge", "Northbridge University, issuer staff"),
    ("lead@codeforge.example", "issuer_admin", "codeforge", "CodeForge Bootcamp, issuer admin"),
    ("talent@helix.example", "employer", "helix", "Helix Logistics, employer (verifies candidates)"),
    ("ada@learners.example", "learner", None, "A learner with several credentials"),
)
ISSUERS = (
    ("northbridge", "Northbridge University", "NL", "https://northbridge.example", "#1e3a8a"),
    ("codeforge", "CodeForge Bootcamp", "DE", "https://codeforge.example", "#7c2d12"),
    ("helix", "Helix Logistics Academy", "BE", "https://helix.example", "#14532d"),
)


@dataclass(frozen=True)
class Course:
    issuer: str
    name: str
    skills: tuple[str, ...]
    ects: float | None
    hours: float
    eqf: int
    form: str
    price: float
    months: int | None
    tags: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()  # names of courses to hold first


COURSES = (
    Course(
        "northbridge",
        "Data Analytics with Python",
        ("Python (computer programming)", "data analytics", "statistical analysis system software"),
        5,
        125,
        6,
        "online",
        450,
        36,
        ("data",),
    ),
    Course(
        "northbridge",
        "Machine Learning Foundations",
        ("machine learning", "utilise machine learning", "data mining"),
        5,
        125,
        7,
        "blended",
        600,
        36,
        ("data",),
    ),
    Course("northbridge", "Databases and SQL", ("SQL", "MySQL", "database"), 3, 75, 6, "online", 300, 12, ("data",)),
    Course(
        "northbridge",
        "Sustainable Supply Chains",
        ("sustainable development goals", "circular economy", "green logistics"),
        4,
        100,
        6,
        "onsite",
        400,
        None,
        ("green",),
    ),
    Course(
        "northbridge",
        "Research Data Management",
        ("manage findable accessible interoperable and reusable data", "data protection"),
        2,
        50,
        7,
        "online",
        150,
        None,
    ),
    Course(
        "northbridge",
        "Academic Writing in English",
        ("report facts", "draft corporate emails", "adapt to change"),
        3,
        75,
        6,
        "blended",
        200,
        None,
        ("writing",),
    ),
    Course(
        "codeforge",
        "Full-Stack JavaScript",
        ("JavaScript", "JavaScript Framework", "web programming"),
        None,
        240,
        5,
        "online",
        2900,
        24,
        ("web",),
    ),
    Course(
        "codeforge",
        "Cloud Engineering with Kubernetes",
        ("cloud technologies", "cloud monitoring and reporting", "DevOps"),
        None,
        160,
        5,
        "online",
        2400,
        24,
        ("cloud",),
    ),
    Course(
        "codeforge",
        "Cyber Security Essentials",
        ("cyber security", "cyber attack counter-measures", "attack vectors"),
        None,
        120,
        5,
        "blended",
        1900,
        24,
        ("security",),
    ),
    Course(
        "codeforge",
        "Agile Delivery and Scrum",
        ("Agile project management", "ICT project management"),
        None,
        40,
        5,
        "online",
        900,
        36,
    ),
    Course(
        "codeforge",
        "UX Design Sprint",
        ("software interaction design", "human-computer interaction", "design interaction model"),
        None,
        60,
        5,
        "onsite",
        1200,
        None,
        ("web",),
    ),
    Course(
        "helix",
        "Warehouse Data Dashboards",
        ("data analytics", "create data models", "business intelligence"),
        None,
        24,
        4,
        "onsite",
        0,
        24,
        ("data",),
    ),
    Course(
        "helix",
        "Green Fleet Operations",
        ("green logistics", "ecological principles", "energy efficiency"),
        None,
        16,
        4,
        "onsite",
        0,
        24,
        ("green",),
    ),
    Course(
        "helix",
        "Workplace Safety Leadership",
        ("cyber security", "apply hygiene standards", "lead others"),
        None,
        12,
        4,
        "onsite",
        0,
        12,
        ("safety",),
    ),
    Course(
        "helix",
        "Digital Procurement",
        ("e-procurement", "ICT project management", "negotiate compromises"),
        None,
        20,
        5,
        "blended",
        0,
        24,
    ),
    Course(
        "helix",
        "Spreadsheet Modelling for Planners",
        ("use spreadsheets software", "statistical analysis system software"),
        None,
        14,
        4,
        "online",
        0,
        24,
        ("data",),
    ),
    Course(
        "codeforge",
        "Containers with Docker and Kubernetes",
        ("Docker", "Kubernetes", "DevOps"),
        2,
        50,
        5,
        "online",
        350,
        24,
        ("cloud",),
        ("Databases and SQL",),
    ),
    Course(
        "helix",
        "Stakeholder Communication",
        ("communicate with stakeholders", "give live presentation"),
        1,
        25,
        5,
        "blended",
        150,
        None,
        ("transversal",),
    ),
    Course(
        "codeforge",
        "Cloud Data Engineering Bootcamp",
        ("Docker", "SQL", "Python (computer programming)", "Amazon Web Services AWS software"),
        6,
        160,
        6,
        "online",
        1200,
        24,
        ("cloud", "data"),
    ),
)
FIRST = ("Ada", "Alan", "Grace", "Linus", "Margaret", "Tim", "Hedy", "Katherine", "Dennis", "Barbara", "Edsger", "Frances",
         "Guido", "Radia", "Sophie", "Lars", "Amara", "Jonas", "Mei", "Ines", "Mateo", "Zofia", "Noor", "Eamon", "Lucía")  # fmt: skip
LAST = ("Lovelace", "Turing", "Hopper", "Berg", "Hamilton", "Berners", "Lamarr", "Johnson", "Ritchie", "Liskov", "Dijkstra",
        "Allen", "van Rossum", "Perlman", "Wilson", "Nielsen", "Okafor", "Schmidt", "Chen", "García", "Rossi", "Nowak", "Haddad", "Byrne")  # fmt: skip


class SteppedClock:
    """The seeding clock: each award happens at the moment the seeder sets."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant

    def now(self) -> datetime:
        return self.instant


def definition(course: Course, taxonomy: TaxonomyService) -> MicrocredentialDefinition:
    found = [taxonomy.find_label(label) for label in course.skills]
    skills = [{"uri": s.uri, "label": s.label, "framework": s.framework} for s in found if s is not None]
    return MicrocredentialDefinition.model_validate({
        "name": course.name,
        "description": f"{course.name}: a short, assessed microcredential ({course.hours:g} hours of notional workload) at EQF level {course.eqf}.",
        "criteria": "Complete the graded assignments and pass the final assessment with at least 60%.",
        "skills": skills, "tags": list(course.tags), "language": "en",
        "learning_outcomes": [_outcome(s["label"]) for s in skills] or ["Apply the course content"],
        "workload_hours": course.hours, "ects": course.ects, "eqf_level": course.eqf,
        "assessment_type": "Graded project and supervised online exam", "participation_form": course.form,
        "quality_assurance": "Internal quality assurance of the awarding body, reviewed yearly",
        "supervision_identity_verification": "Identity checked at the supervised exam",
        "integration_stackability": "Stackable towards a certificate; recognised for credit where stated",
        "price": course.price, "currency": "EUR", "duration_hours": course.hours, "delivery_mode": course.form,
        "valid_for_months": course.months,
        # Certifications that lapse can also be suspended (a complaint, a missed renewal); degrees' parts are revoked.
        "suspendable": course.months is not None,
    })  # fmt: skip


def seed(settings: Settings, progress: Callable[[str], None] = print, learners: int = 200) -> None:
    """Fill an empty installation with the demo (refuses one that already has issuers)."""
    now = datetime.now(UTC).replace(microsecond=0)
    clock = SteppedClock(now)
    platform = bootstrap.build_platform(settings, clock, create=True)
    try:
        if platform.issuers.list():
            progress("the demo data is already there")
            return
        for slug, name, country, url, colour in ISSUERS:
            platform.issuers.create(
                name=name,
                slug=slug,
                country=country,
                url=url,
                email=f"credentials@{slug}.example",
                description=f"{name} (demo)",
            )
            platform.issuers.update_profile(
                slug,
                name=name,
                country=country,
                url=url,
                email=f"credentials@{slug}.example",
                description=f"{name} (demo data)",
                colour=colour,
            )
        platform.issuers.set_vcapi("codeforge", True, actor="demo")  # its DID also signs through the VC-API
        for email, role, org, _what in LOGINS:
            platform.accounts.create_user(email, PASSWORD, role, org, name=email.split("@")[0].title())
        catalogue = [
            (
                course,
                platform.catalog.create(
                    course.issuer,
                    definition(course, platform.taxonomy),
                    actor="demo",
                    publish=True,
                    exemption="demo data: the source catalogue does not state every element",
                ).id,
            )
            for course in COURSES
        ]
        progress(f"{len(ISSUERS)} issuers, {len(catalogue)} microcredentials")
        _awards(platform, clock, catalogue, now, learners, progress)
        _pathways(platform, clock, catalogue, now, progress)
        _skills(platform, progress)
    finally:
        platform.close()


def _awards(
    platform: bootstrap.Platform,
    clock: SteppedClock,
    catalogue: list[tuple[Course, str]],
    now: datetime,
    learners: int,
    progress: Callable[[str], None],
) -> None:
    rng = random.Random(2026)  # noqa: S311 - the same demo every time, not a secret
    people = [("Ada Lovelace", "ada@learners.example")]
    for n in range(1, learners):
        first, last = FIRST[n % len(FIRST)], LAST[(n * 7) % len(LAST)]
        people.append(
            (
                f"{first} {last}",
                f"{first}.{last}.{n}".lower().replace(" ", "").replace("í", "i").replace("á", "a")
                + "@learners.example",
            )
        )
    with_account = {email for i, (_n, email) in enumerate(people) if i % 4 != 3}  # a quarter still have to claim
    for count, (_name, email) in enumerate(people[1:], start=1):
        if email in with_account:
            platform.accounts.create_user(email, PASSWORD, "learner", name=_name, actor="demo")
        if count % 25 == 0:  # each account's password hash takes a moment: say how far it is
            progress(f"learner accounts: {count} of {len(people) - 1}")
    issued = 0
    for index, (name, email) in enumerate(people):
        for course, mc_id in rng.sample(catalogue, 4 if index == 0 else rng.randint(1, 3)):
            days_ago = rng.randint(0, 80) if rng.random() < 0.85 else rng.randint(400, 700)
            clock.instant = now - timedelta(days=days_ago, minutes=rng.randint(0, 600))
            outcome = platform.awards.award(AwardRequest(mc_id, email, name, f"S{10000 + index}"), actor="demo")
            issued += 1
            roll = rng.random()
            if roll < 0.05:
                platform.awards.revoke(outcome.id, "Assessment found to be plagiarised", actor="demo")
            elif roll < 0.08 and platform.awards.suspendable(outcome.id):
                platform.awards.suspend(outcome.id, "Under review after a complaint", actor="demo")
            if email in with_account:
                with platform.runtime.db.transaction() as repo:
                    repo.mark_claimed([outcome.id], clock.instant)
            else:
                platform.web_accounts.notify_award(
                    outcome.id,
                    email,
                    course.name,
                    dict((i[0], i[1]) for i in ISSUERS)[course.issuer],
                    platform.runtime.base_url,
                )
        if index % 20 == 19:
            progress(f"awards: {index + 1} of {len(people)} learners, {issued} awards signed")
    clock.instant = now


def _pathways(
    platform: bootstrap.Platform,
    clock: SteppedClock,
    catalogue: list[tuple[Course, str]],
    now: datetime,
    progress: Callable[[str], None],
) -> None:
    """A stackable certificate at Northbridge, which Ada completes, and a credit rule for a CodeForge course."""
    ids = {course.name: mc_id for course, mc_id in catalogue}
    clock.instant = now - timedelta(days=1)
    certificate = platform.pathways.create("northbridge", {
        "name": "Certificate in Data Science", "achievement_type": "Certificate",
        "description": "Stack Data Analytics with Python with one of Machine Learning Foundations or Databases and SQL "
                       "into a university certificate of at least 8 ECTS.",
        "requirements": {"all_of": [
            {"microcredential": ids["Data Analytics with Python"], "id": "core", "label": "Data Analytics with Python"},
            {"at_least": 1, "id": "elective", "of": [{"microcredential": ids["Machine Learning Foundations"]},
                                                      {"microcredential": ids["Databases and SQL"]}]},
            {"min_credits": 8, "unit": "ects", "id": "credits",
             "of": [{"microcredential": ids[n]} for n in ("Data Analytics with Python", "Machine Learning Foundations",
                                                           "Databases and SQL")]},
        ]},
    }, actor="demo")  # fmt: skip
    held = {a.version_id for a in platform.awards.list_awards(email="ada@learners.example", limit=100)}
    with platform.runtime.db.read() as repo:
        versions = {v.id: v.microcredential_id for mc_id in ids.values() for v in repo.versions(mc_id)}
    ada = {versions.get(v) for v in held}
    for name in ("Data Analytics with Python", "Databases and SQL"):
        if ids[name] not in ada:
            platform.awards.award(
                AwardRequest(ids[name], "ada@learners.example", "Ada Lovelace", "S10000"), actor="demo"
            )
    result = platform.pathways.evaluate_all()
    bootcamp = next(mc_id for course, mc_id in catalogue if course.issuer == "codeforge")
    from microcred.services.recognition import RuleIn

    platform.recognition.add_rule("northbridge", RuleIn("BSc Computer Science", "CS-150", 5, "pass-fail",
                                                        {"microcredential": bootcamp}), actor="demo")  # fmt: skip
    progress(
        f"1 pathway ({certificate.name}: {result.satisfied} learner{'' if result.satisfied == 1 else 's'} complete), 1 recognition rule"
    )


ROLE_SKILLS = (
    "Python (computer programming)",
    "SQL",
    "data analytics",
    "machine learning",
    "Docker",
    "communicate with stakeholders",
)


def _skills(platform: bootstrap.Platform, progress: Callable[[str], None]) -> None:
    """Two thirds of the learners with accounts let employers find them; Helix defines two roles."""
    rng = random.Random(7)  # noqa: S311 - the same demo every time
    countries = ("NL", "DE", "BE", "FR", "ES", "PL", "IE")
    with platform.runtime.db.read() as repo:
        learners = [u.email for u in repo.users_of(None) if u.role == "learner"]
    for email in learners:
        held = platform.skills.held(email)
        if email != "ada@learners.example" and rng.random() > 0.67:
            continue
        platform.skills.set_country(email, rng.choice(countries))
        platform.skills.choose_discoverable(email, {credential.provenance.ref for credential in held})
        if email == "ada@learners.example" or rng.random() < 0.3:
            platform.skills.share(email, "helix", True)
    admin = platform.accounts.principal_of("talent@helix.example")
    picked = [platform.taxonomy.find_label(label) for label in ROLE_SKILLS]
    platform.roles.create(
        admin, "helix", "Junior data engineer",
        [RoleSkillIn(uri=s.uri, essential=n < 4, importance=5 - min(n, 3)) for n, s in enumerate(picked) if s],
        description="Builds and runs our data pipelines.",
    )  # fmt: skip
    analyst = next(o for o in platform.taxonomy.taxonomy.occupations if o.label == "data analyst")
    platform.roles.create(
        admin, "helix", "Data analyst", platform.roles.from_occupation(analyst.uri, with_optional=False),
        occupation_uri=analyst.uri, source="occupation",
    )  # fmt: skip
    progress(f"{len(learners)} learner skill profiles, 2 job roles")


def _outcome(skill: str) -> str:
    """A learning outcome from an ESCO skill label, which is often a verb phrase already ("apply hygiene
    standards"): it is said as it is, not as "Apply apply hygiene standards"."""
    verbs = ("apply", "use", "manage", "develop", "perform", "analyse", "analyze", "lead", "create", "design",
             "communicate", "write", "build", "maintain", "implement", "monitor", "plan", "work", "teach")  # fmt: skip
    if skill.split(" ", 1)[0].lower() in verbs:
        return f"{skill[:1].upper()}{skill[1:]} in a realistic project"
    return f"Apply {skill} in a realistic project"
