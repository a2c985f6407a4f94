"""The demo store's fictional content: people, places, aliases, prose templates, and the records made from them.

Mostly data tables (subjects per domain, openings, details, assessments) the generator draws from; the
builder that writes them into the PK-MOI and TR-MOI stores is `store.demo`.
Every name is invented: officers are first names only, subjects are aliases, vessels and companies are
made up. Places are real towns and crossings, as a liaison desk would mention them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from store.ingest import IngestItem
from store.vocab import SEED_DOMAINS, Status, Tlp

DEMO_OFFICER = "demo"
DEMO_MINISTRY = "PK-MOI"
#: Fictional colleagues: (name, role). `demo` is the admin every user logs in as.
DEMO_COLLEAGUES = (("ayesha", "reviewer"), ("bilal", "officer"), ("kamran", "officer"), ("sana", "reviewer"))
#: Fictional officers on the Turkish side, authors of inbound records.
COUNTERPART_AUTHORS = ("elif", "murat", "zeynep")
DAYS = 548  # about 18 months

COASTAL = ("Gwadar", "Karachi", "Port Qasim", "Pasni", "Ormara", "Mersin", "Izmir", "Antalya", "Istanbul")
PLACES = (
    "Gwadar",
    "Karachi",
    "Quetta",
    "Taftan",
    "Torkham",
    "Chaman",
    "Mersin",
    "Istanbul",
    "Van",
    "Izmir",
    "Lahore",
    "Peshawar",
    "Ankara",
    "Antalya",
    "Port Qasim",
)
ALIASES = (
    "the Tailor",
    "Falcon",
    "the Accountant",
    "Saffron",
    "the Ferryman",
    "Orchid",
    "the Courier",
    "Nightjar",
    "Copperhead",
    "the Broker",
)
VESSELS = ("MV Saba Noor", "MV Deniz Yildizi", "FV Al-Karam", "MV Sea Lantern", "dhow Bahar", "MV Blue Minaret")
COMPANIES = (
    "Crescent Freight Ltd",
    "Anatolia Logistics",
    "Indus Textile Exports",
    "Marmara Trading Co",
    "Bolan Movers",
    "Silkroute Couriers",
)

#: Each subject with the article it takes in a sentence ("a", "an" or none for plurals and mass nouns).
SUBJECTS: dict[str, tuple[str, ...]] = {
    "counterterrorism": (
        "a financing cell using hawala transfers",
        "a recruitment channel on encrypted messaging",
        "a safe-house network",
        "travel by members of a facilitator network",
        "procurement of dual-use components",
    ),
    "narcotics": (
        "a heroin consignment concealed in textile bales",
        "a methamphetamine precursor shipment",
        "a cannabis resin route",
        "couriers carrying synthetic opioids",
        "cocaine transhipment via containers",
    ),
    "human-smuggling": (
        "a migrant smuggling route using forged visas",
        "a smuggling network using lorries",
        "a document forgery workshop",
        "a sea crossing organised by brokers",
        "a ring facilitating visa overstays",
    ),
    "border-management": (
        "irregular crossings at night",
        "a biometric mismatch at the crossing",
        "vehicles with false compartments",
        "a staffing gap at a border post",
        "an anomaly in cross-border trade",
    ),
    "cybercrime": (
        "a phishing campaign against ministry staff",
        "ransomware affiliate infrastructure",
        "a SIM-swap fraud ring",
        "a vendor on a carding marketplace",
        "compromised e-visa portal accounts",
    ),
    "coast-guard": (
        "a fishing vessel switching off its AIS",
        "fuel smuggling at sea",
        "ship-to-ship transfers at night",
        "unregistered dhow traffic",
        "a gap in search-and-rescue coordination",
    ),
    "policing": (
        "arms trafficking between cities",
        "an extortion network targeting traders",
        "a sighting of a wanted person",
        "a vehicle theft ring exporting cars",
        "money laundering through property",
    ),
}

OPENINGS = (
    "Reporting from {place} indicates {subject} linked to the alias {alias}.",
    "A joint review of seizures near {place} points to {subject}.",
    "Liaison contacts in {place} report {subject}, active since last quarter.",
    "Analysis of shipping manifests for {company} suggests {subject}.",
)
DETAILS = (
    "The network appears to move through {place} and {place2}, and used the {vessel} on at least two occasions.",
    "Payments were routed through accounts associated with {company}; the amounts stay below reporting thresholds.",
    "The alias {alias} is believed to coordinate logistics but has not been identified by name.",
    "The timing matches the weekly ferry schedule out of {place2}, which suggests planning around inspection shifts.",
    "Two seizures in {place} last month share packaging marks with this activity.",
    "Telephone metadata shared earlier by the counterpart ministry is consistent with this picture.",
    "Open-source reporting mentions {company} in connection with unexplained cargo delays.",
    "Field officers observed repeated contact between couriers near the {place} bus terminal.",
)
ASSESSMENTS = (
    "Assessment: moderate confidence. Corroboration from the counterpart desk is requested before any operational step.",
    "Assessment: high confidence on the route, low confidence on the principals. Further collection has been tasked.",
    "Assessment: the activity is likely to continue over the next quarter unless the route through {place} is disrupted.",
    "Recommended action: raise it with the Joint Working Group's sub-group on {domain_label} at its next meeting.",
)
SOURCES = (
    "Human source, reliable in the past (B2)",
    "Seizure report and laboratory analysis",
    "Partner liaison briefing",
    "Open sources, corroborated",
    "Financial intelligence unit referral",
    "Maritime surveillance feed",
)
RETURN_COMMENTS = (
    "Please add the source grading and the date of the last sighting.",
    "The TLP looks too open for this content; please consider AMBER.",
    "The summary mixes two operations; please split it into two records.",
)


def bare(subject: str) -> str:
    """A subject without its article, for a title (`a safe-house network` → `safe-house network`)."""
    for article in ("a ", "an "):
        if subject.startswith(article):
            return subject[len(article) :]
    return subject


class TextMaker:
    """Deterministic fictional prose for titles and summaries."""

    def __init__(self, rng: random.Random, summary_bytes: int = 900) -> None:
        self.rng = rng
        self.summary_bytes = summary_bytes

    def _places(self, domain: str) -> tuple[str, ...]:
        return COASTAL if domain == "coast-guard" else PLACES

    def _fill(self, template: str, domain: str) -> str:
        r = self.rng
        place, place2 = r.sample(self._places(domain), 2)
        return template.format(
            place=place,
            place2=place2,
            alias=r.choice(ALIASES),
            vessel=r.choice(VESSELS),
            company=r.choice(COMPANIES),
            subject=r.choice(SUBJECTS[domain]),
            domain_label=SEED_DOMAINS[domain].lower(),
        )

    def title(self, domain: str) -> str:
        r = self.rng
        subject = bare(r.choice(SUBJECTS[domain]))
        return f"{subject[0].upper()}{subject[1:]} near {r.choice(self._places(domain))}"

    def summary(self, domain: str) -> str:
        r = self.rng
        paragraphs = [self._fill(r.choice(OPENINGS), domain) + " " + self._fill(r.choice(DETAILS), domain)]
        size = len(paragraphs[0])
        while size < self.summary_bytes:
            para = " ".join(self._fill(r.choice(DETAILS), domain) for _ in range(r.randint(2, 3)))
            paragraphs.append(para)
            size += len(para) + 2
        paragraphs.append(self._fill(r.choice(ASSESSMENTS), domain))
        return "\n\n".join(paragraphs)


def demo_items(count: int, now: datetime, *, seed: int = 2026, summary_bytes: int = 900) -> Iterator[IngestItem]:
    """`count` fictional records, oldest first, covering every domain, TLP and status."""
    rng = random.Random(seed)
    text = TextMaker(rng, summary_bytes)
    domains = list(SEED_DOMAINS)
    tlps = [t.value for t in Tlp]
    outbound = [
        Status.DRAFT,
        Status.IN_REVIEW,
        Status.RETURNED,
        Status.APPROVED,
        Status.SHARED,
        Status.ACKNOWLEDGED,
        Status.CLOSED,
    ]
    outbound_weights = [8, 10, 4, 14, 26, 30, 8]
    inbound = [Status.RECEIVED, Status.ACTIONED, Status.CLOSED]
    authors = [DEMO_OFFICER] + [name for name, _ in DEMO_COLLEAGUES]
    reviewers = [DEMO_OFFICER] + [name for name, role in DEMO_COLLEAGUES if role == "reviewer"]
    offsets = sorted((rng.uniform(0, DAYS * 86400) for _ in range(count)), reverse=True)
    for i, offset in enumerate(offsets):
        created = now - timedelta(seconds=offset)
        domain = domains[i % len(domains)] if i < len(domains) else rng.choice(domains)
        tlp = tlps[i % len(tlps)] if i < 2 * len(tlps) else rng.choices(tlps, weights=[10, 30, 35, 12, 13])[0]
        is_inbound = i % 10 in (3, 7, 9) if i >= 20 else i % 4 == 3
        if is_inbound:
            origin = "TR-MOI" if rng.random() < 0.85 else "PK-ANF"
            if tlp == Tlp.RED.value:
                tlp = Tlp.AMBER_STRICT.value  # TLP:RED never travels: a counterpart's most restricted is AMBER+STRICT
            status = inbound[i % 3] if i < 20 else rng.choices(inbound, weights=[45, 40, 15])[0]
            author = rng.choice(COUNTERPART_AUTHORS) if origin == "TR-MOI" else "anf.desk"
            recipients: tuple[str, ...] = ("PK-MOI",) if origin != "PK-MOI" else ()
            reviews: tuple[tuple[str, str, datetime, str], ...] = ()
            updated = min(created + timedelta(hours=rng.uniform(1, 96)), now)
        else:
            origin = DEMO_MINISTRY
            status = outbound[i % len(outbound)] if i < 20 else rng.choices(outbound, weights=outbound_weights)[0]
            # the review queue is mostly colleagues' work, so `demo` has something to approve
            author = (
                rng.choice(authors[1:]) if status is Status.IN_REVIEW and rng.random() < 0.8 else rng.choice(authors)
            )
            extra = rng.sample(["PK-ANF", "PK-NDMA"], k=rng.choice([0, 0, 1]))
            recipients = tuple(sorted({"TR-MOI", *extra})) if tlp != "RED" or rng.random() < 0.7 else ("TR-MOI",)
            # created ≤ submitted ≤ approved or returned (= updated) ≤ now, however recent the record
            submitted = min(created + timedelta(minutes=30), created + (now - created) / 3)
            updated = min(submitted + timedelta(hours=rng.uniform(0.5, 72)), now)
            if tlp == "RED" and status in (Status.SHARED, Status.ACKNOWLEDGED):
                status = Status.APPROVED  # TLP:RED never leaves in a bundle
            reviewer = rng.choice([r for r in reviewers if r != author])
            steps: list[tuple[str, str, datetime, str]] = []
            if status is not Status.DRAFT:
                steps.append((author, "submit", submitted, ""))
            if status is Status.RETURNED:
                steps.append((reviewer, "return", updated, rng.choice(RETURN_COMMENTS)))
            elif status not in (Status.DRAFT, Status.IN_REVIEW):
                steps.append((reviewer, "approve", updated, ""))
            reviews = tuple(steps)
        yield IngestItem(
            domain=domain,
            origin=origin,
            tlp=tlp,
            status=status.value,
            author=author,
            created_at=created,
            updated_at=max(updated, created),
            title=text.title(domain),
            summary=text.summary(domain),
            source=rng.choice(SOURCES),
            releasable_to=recipients,
            no_reexport=is_inbound and tlp == "AMBER+STRICT",
            reviews=reviews,
            origin_numbering=is_inbound,
        )
