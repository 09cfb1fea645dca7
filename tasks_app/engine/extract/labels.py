"""Matching schema fields to the labels printed on documents.

A field is described by its name (snake/camel case split), title and description; a label is the
text before a colon, beside or above a value, or a table header. Both are normalised (case, accents,
punctuation, common abbreviations) and compared three ways, best score wins (0-100):

* concept groups: "Bill To" and `customer_name` both belong to the *customer* concept;
* fuzzy token comparison (rapidfuzz), which penalises extra words, so "Due Date" is not "Date";
* word overlap with the description ("The date the invoice was issued" vs "Issue Date").
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz

from .coerce import normalize

_ABBREV = {
    "no": "number", "nr": "number", "num": "number", "nbr": "number", "#": "number", "n°": "number", "no.": "number",
    "amt": "amount", "qty": "quantity", "qte": "quantity", "dt": "date", "inv": "invoice", "addr": "address",
    "tel": "phone", "ph": "phone", "ref": "reference", "acct": "account", "acc": "account", "desc": "description",
    "pct": "percent", "approx": "approximately", "cust": "customer", "dob": "date of birth", "emp": "employee",
    "po": "purchase order", "p o": "purchase order", "e mail": "email", "mail": "email", "tin": "tax id",
    "vat id": "tax id", "ein": "tax id", "disc": "discount", "pcs": "quantity", "ea": "each", "sku": "sku",
    "id": "id", "incl": "including", "excl": "excluding", "govt": "government", "dept": "department",
}  # fmt: skip

_CONCEPTS: dict[str, tuple[str, ...]] = {
    "invoice_number": ("invoice number", "invoice id", "invoice", "bill number", "document number", "invoice ref",
                       "invoice reference", "invoice code"),
    "receipt_number": ("receipt number", "receipt", "transaction number", "transaction id", "transaction",
                       "ticket number", "receipt id"),
    "issue_date": ("date", "invoice date", "issue date", "date of issue", "issued", "issued on", "dated",
                   "bill date", "document date", "date issued", "invoice dt", "transaction date", "receipt date"),
    "due_date": ("due date", "payment due", "due", "pay by", "payment due date", "due by", "date due",
                 "payable by", "due on"),
    "total": ("total", "grand total", "amount due", "total due", "balance due", "total amount", "amount payable",
              "total payable", "invoice total", "total amount due", "balance", "total to pay", "amount to pay",
              "total incl tax", "total including tax", "gross amount", "total gross", "amount after discount",
              "net amount after discount", "total after discount"),
    "subtotal": ("subtotal", "sub total", "net total", "net amount", "total before tax", "total excluding tax",
                 "total excl tax", "net", "amount before tax", "total net"),
    "tax": ("tax", "vat", "gst", "hst", "sales tax", "tax amount", "vat amount", "tax total", "total tax"),
    "tax_rate": ("tax rate", "vat rate", "vat percent", "tax percent", "gst rate", "rate"),
    "vendor": ("vendor", "supplier", "seller", "from", "sold by", "issued by", "company", "merchant", "store",
               "payee", "remit to", "provider", "service provider", "contractor", "shop", "business"),
    "customer": ("customer", "bill to", "billed to", "client", "buyer", "sold to", "invoice to", "recipient",
                 "to", "purchaser", "customer name", "client name", "account name", "attention", "attn"),
    "ship_to": ("ship to", "shipping address", "deliver to", "delivery address", "shipped to"),
    "purchase_order": ("purchase order", "purchase order number", "order number", "order", "order id", "your order"),
    "email": ("email", "email address", "e mail address", "contact email"),
    "phone": ("phone", "telephone", "phone number", "mobile", "cell", "contact number", "tel number", "fax"),
    "address": ("address", "street address", "mailing address", "location", "street", "residence"),
    "name": ("name", "full name", "applicant name", "applicant", "employee name", "patient name", "patient",
             "policy holder", "policyholder", "insured", "member name", "holder"),
    "birth_date": ("date of birth", "birth date", "birthdate", "born"),
    "reference": ("reference", "reference number", "our reference", "your reference"),
    "account_number": ("account number", "account", "iban", "bank account", "account id", "customer number",
                       "customer id", "client number", "member number", "member id"),
    "currency": ("currency",),
    "payment_terms": ("payment terms", "terms", "terms of payment", "credit terms"),
    "payment_method": ("payment method", "paid by", "payment type", "method of payment", "payment", "tender",
                       "card type"),
    "quantity": ("quantity", "units", "count", "hours", "hrs", "qty ordered", "quantity ordered"),
    "unit_price": ("unit price", "price", "rate", "unit cost", "price each", "each", "unit rate", "price per unit",
                   "list price", "hourly rate", "cost"),
    "line_amount": ("amount", "line total", "total", "ext price", "extended price", "extended", "line amount",
                    "net amount", "value", "sum"),
    "description": ("description", "item", "product", "service", "details", "particulars", "article",
                    "item description", "product description", "goods", "activity", "product name",
                    "item name", "services"),
    "sku": ("sku", "item code", "code", "product code", "part number", "item number", "article number", "part",
            "product id", "item id", "catalog number", "upc"),
    "effective_date": ("effective date", "commencement date", "start date", "effective as of", "effective",
                       "date of agreement", "agreement date", "made on", "entered into on"),
    "end_date": ("end date", "expiration date", "termination date", "expiry date", "expires", "expiry",
                 "valid until", "valid through", "term ends"),
    "title": ("title", "document title", "heading", "subject", "name of document"),
    "governing_law": ("governing law", "law", "jurisdiction", "applicable law"),
    "discount": ("discount", "rebate", "discount amount"),
    "shipping": ("shipping", "freight", "delivery", "shipping and handling", "postage", "delivery charge"),
    "tip": ("tip", "gratuity"),
    "cashier": ("cashier", "served by", "operator", "clerk", "server"),
    "policy_number": ("policy number", "policy", "policy id", "certificate number", "claim number"),
    "signature_date": ("signature date", "date signed", "signed on", "signed"),
    "gender": ("gender", "sex"),
    "marital_status": ("marital status", "civil status"),
    "employer": ("employer", "company name", "organisation", "organization", "employer name"),
    "occupation": ("occupation", "job title", "position", "profession", "role"),
    "city": ("city", "town"),
    "country": ("country", "nation"),
    "postal_code": ("postal code", "zip", "zip code", "postcode"),
    "website": ("website", "web", "url", "homepage"),
    "tax_id": ("tax id", "vat number", "tax number", "tax identification number", "vat registration number",
               "gst number", "abn"),
}  # fmt: skip

# The same concepts as printed on German, French and Dutch documents (accents and case are normalised away;
# "Nr."/"N°" read as "number" already). Real invoices label their fields in the issuer's language.
_CONCEPTS_INTL: dict[str, tuple[str, ...]] = {
    "invoice_number": ("rechnungsnummer", "rechnung number", "rechnungs number", "belegnummer", "facture number",
                       "number de facture", "numero de facture", "numero facture", "factuurnummer",
                       "factuur number", "invoice no", "bill no", "invoice"),
    "receipt_number": ("bill no", "receipt no", "doc no", "document no", "inv no", "trans no", "cash bill"),
    "issue_date": ("rechnungsdatum", "datum", "belegdatum", "liefer und rechnungsdatum", "date de facture",
                   "date facture", "date d emission", "factuurdatum", "fecha", "fecha de factura", "date"),
    "due_date": ("falligkeitsdatum", "faellig am", "zahlbar bis", "date d echeance", "echeance", "vervaldatum"),
    "total": ("rechnungssumme brutto", "brutto", "gesamtbetrag", "gesamtsumme", "endbetrag", "zahlbetrag",
              "rechnungsbetrag", "bruttobetrag", "gesamt brutto", "summe brutto", "total ttc", "montant ttc",
              "net a payer", "montant total", "total a payer", "totaal", "totaal bedrag incl btw", "te betalen",
              "totaal incl btw", "total incl vat", "total including vat", "rounded total", "total rounded",
              "nett total", "total sales", "total amount payable", "total inclusive gst", "total incl gst"),
    "subtotal": ("netto", "rechnungssumme netto", "nettobetrag", "summe netto", "gesamt netto", "total ht",
                 "montant ht", "total hors taxes", "totaal bedrag excl btw", "totaal excl btw", "subtotaal"),
    "tax": ("mwst", "ust", "umsatzsteuer", "mehrwertsteuer", "tva", "montant tva", "total tva", "btw",
            "totaal bedrag btw", "btw bedrag", "iva"),
    "tax_rate": ("mwst satz", "ust satz", "steuersatz", "taux tva", "taux", "btw tarief", "perc", "btw percentage",
                 "vat percentage"),
    "vendor": ("issuer", "verkaufer", "lieferant", "rechnungssteller", "fournisseur", "vendeur", "emetteur",
               "leverancier", "verkoper", "issued by", "sender"),
    "customer": ("kunde", "kaufer", "rechnungsempfanger", "leistungsempfanger", "client", "acheteur", "klant",
                 "destinataire", "afnemer"),
    "quantity": ("menge", "anzahl", "quantite", "aantal", "stuck", "qte"),
    "unit_price": ("preis", "einzelpreis", "e preis", "stuckpreis", "prix unitaire", "prix", "p u ht", "pu ht",
                   "prijs", "eenheidsprijs", "unit price"),
    "line_amount": ("betrag", "gesamtpreis", "gesamt", "montant", "montant ht", "total ht", "bedrag",
                    "totaalbedrag", "prix total", "amount"),
    "description": ("artikelbeschreibung", "bezeichnung", "beschreibung", "artikel", "produkt", "leistung",
                    "produkt beschreibung", "artikelbezeichnung", "designation", "libelle", "nom et designation",
                    "omschrijving", "article"),
    "currency": ("wahrung", "devise", "valuta"),
}  # fmt: skip
for _c, _names in _CONCEPTS_INTL.items():
    _CONCEPTS[_c] = (*_CONCEPTS[_c], *_names)

_STOP = frozenset(
    "a an the of for to in on at by and or is was be this that which with from as its it their his her our your "
    "value field document number of any if when where who whom".split()
) - {"number", "to", "from"}
_STOP_DESC = frozenset(
    "a an the of for to in on at by and or is was be this that which with as its it their his her our your "
    "value field document if when where who whom shown printed written listed given stated e g".split()
)
PARTY_CONCEPTS = frozenset({"vendor", "customer", "ship_to", "employer"})
# Words a heading over a party's details may carry besides the party ('SELLER TRADE NAME', 'Seller details').
NAME_WORDS = frozenset({"name", "trade", "company", "legal", "registered", "details", "information", "of", "the"})


@lru_cache(maxsize=8192)
def norm_label(text: str) -> str:
    """'Inv. No.:' -> 'invoice number'; 'E-mail' -> 'email'; '#' -> 'number'."""
    t = text.replace("#", " # ").replace("N°", " # ").replace("n°", " # ")
    t = re.sub(r"([a-z])([A-Z])", r"\1 \2", t)  # camelCase
    t = t.replace("_", " ").replace("&", " and ")
    words = normalize(t).split() if "#" not in t else [w for w in re.split(r"[^0-9A-Za-z#]+", t.lower()) if w]
    words = [normalize(w) if w != "#" else "#" for w in words]
    out: list[str] = []
    i = 0
    while i < len(words):
        two = f"{words[i]} {words[i + 1]}" if i + 1 < len(words) else None
        if two and two in _ABBREV:
            out.extend(_ABBREV[two].split())
            i += 2
            continue
        out.extend(_ABBREV.get(words[i], words[i]).split())
        i += 1
    return " ".join(w for w in out if w)


def _stem(w: str) -> str:
    for suf in ("ing", "ed", "es", "s"):
        if len(w) > len(suf) + 2 and w.endswith(suf):
            return w[: -len(suf)]
    return w


_CONCEPT_INDEX: dict[str, set[str]] = {}
for _concept, _names in _CONCEPTS.items():
    for _n in (_concept.replace("_", " "), *_names):
        _CONCEPT_INDEX.setdefault(norm_label(_n), set()).add(_concept)


@lru_cache(maxsize=8192)
def concepts(label: str) -> frozenset[str]:
    n = norm_label(label)
    found = set(_CONCEPT_INDEX.get(n, ()))
    if not found and len(n) >= 5:
        for key, cs in _CONCEPT_INDEX.items():
            if len(key) >= 5 and fuzz.ratio(key, n) >= 90:
                found |= cs
    return frozenset(found)


def field_phrases(name: str, title: str | None, parents: tuple[str, ...] = ()) -> list[str]:
    """Label texts a field could be printed under: its name, its title, parent-qualified forms."""
    out = [norm_label(name)]
    if title:
        out.append(norm_label(title))
    if parents:
        parent = norm_label(parents[-1])
        out.append(f"{parent} {norm_label(name)}")
    return [p for p in dict.fromkeys(out) if p]


def description_words(description: str | None) -> frozenset[str]:
    if not description:
        return frozenset()
    return frozenset(_stem(w) for w in normalize(description).split() if w not in _STOP_DESC)


@lru_cache(maxsize=65536)
def _pair_score(phrase: str, label: str) -> float:
    if phrase == label:
        return 100.0
    score = fuzz.token_sort_ratio(phrase, label)
    pc, lc = concepts(phrase), concepts(label)
    if pc & lc:
        # Same concept; exact membership of both sides beats a partial concept hit.
        score = max(score, 94.0)
    return float(score)


def _variants(label: str) -> list[str]:
    """The label, and without its parenthesised notes and numbers ("Sales Tax (8%)" -> "sales tax")."""
    full = norm_label(label)
    bare = norm_label(re.sub(r"\([^)]*\)|\S*\d\S*", " ", label))
    return [v for v in dict.fromkeys((full, bare)) if v]


def _contained(phrase: str, label: str) -> float:
    """Every word of the field's phrase is in the label, with one or two extra words."""
    pw, lw = phrase.split(), label.split()
    extra = len(lw) - len(pw)
    if pw and 0 < extra <= 2 and all(w in lw for w in pw):
        return 84.0 if extra == 1 else 80.0
    return 0.0


def label_score(phrases: list[str], desc: frozenset[str], label: str) -> float:
    best = 0.0
    for k, lab in enumerate(_variants(label)):
        if len(lab) > 60:
            continue
        penalty = 0.0 if k == 0 else 2.0
        for p in phrases:
            best = max(best, _pair_score(p, lab) - penalty, _contained(p, lab) - penalty)
        if desc:
            # Two or more label words all named in the description ("Issue Date" vs "date it was issued").
            lw = [_stem(w) for w in lab.split() if w not in _STOP]
            if len(lw) >= 2 and all(w in desc for w in lw):
                best = max(best, 80.0 + min(8.0, 2.0 * len(lw)) - penalty)
    return best


def is_party(name: str, parents: tuple[str, ...] = ()) -> str | None:
    """'customer_address' / ('customer', 'address') -> 'customer'."""
    for text in (*parents[-1:], name):
        n = norm_label(text)
        for c in concepts(n):
            if c in PARTY_CONCEPTS:
                return c
        for w in n.split():
            for c in concepts(w):
                if c in PARTY_CONCEPTS:
                    return c
    return None


def looks_like_label(text: str) -> bool:
    """Short, mostly alphabetic text: the kind printed as a field label."""
    t = re.sub(r"\([^)]*\)|\S*%", " ", text).strip()  # "VAT 19%", "Income (USD)" are still labels
    if not t or len(t) > 48:
        return False
    letters = sum(c.isalpha() for c in t)
    digits = sum(c.isdigit() for c in t)
    return letters >= 2 and digits <= 1 and len(t.split()) <= 6
