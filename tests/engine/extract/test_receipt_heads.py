"""Receipts as real ones print them and as OCR reads them (issue 16): where a shop's address starts and ends, what
OCR does to its words, names broken over lines, rounding lines and amounts OCR put on a line of their own.

Each receipt is drawn with PyMuPDF and parsed by the engine; `_as_ocr` marks the parsed words as read by OCR (a
confidence on each, as the OCR engines give), since OCR's slips are only mended on words OCR read. Values, and
the words their citations cite, are asserted on the real output of `run_extraction`.
"""

from __future__ import annotations

from pathlib import Path

from tasks_app.engine import run_extraction

from .helpers import lines_pdf
from .test_finders import RECEIPT_SCHEMA

TAIL = [(200, 400, "TEA"), (400, 400, "4.50"), (200, 426, "TOTAL"), (400, 426, "4.50")]


def _head(path: Path, head: list[str], tail: list[tuple[float, float, str]] = TAIL) -> Path:
    return lines_pdf(path, [*[(200, 60 + 14 * i, text) for i, text in enumerate(head)], *tail])


def _as_ocr(output: dict) -> dict:
    for chunk in output["chunks"]:
        for seg in chunk["segments"]:
            for word in seg.get("ocr") or []:
                word["confidence"] = 0.9
    return output


def _as_line_ocr(output: dict) -> dict:
    """Each printed line as one OCR result, as line-level OCR engines give them (document.py splits them again)."""
    for chunk in output["chunks"]:
        for seg in chunk["segments"]:
            lines: list[list[dict]] = []
            for w in seg.get("ocr") or []:
                if not lines or w["bbox"]["left"] < lines[-1][-1]["bbox"]["left"]:
                    lines.append([])  # back to the left margin: the next printed line
                lines[-1].append(w)
            merged = []
            for part in lines:
                x0 = min(w["bbox"]["left"] for w in part)
                y0 = min(w["bbox"]["top"] for w in part)
                x1 = max(w["bbox"]["left"] + w["bbox"]["width"] for w in part)
                y1 = max(w["bbox"]["top"] + w["bbox"]["height"] for w in part)
                box = {"left": x0, "top": y0, "width": x1 - x0, "height": y1 - y0}
                merged.append({"text": " ".join(w["text"] for w in part), "bbox": box, "confidence": 0.9})
            seg["ocr"] = merged
    return output


def _cited(body: dict, key: str) -> str:
    return " ".join(c["content"] for c in body["citations"][key])


def test_an_address_runs_past_its_postcode_line_to_a_state_a_second_town_or_a_branch(tmp_path, parse):
    cases = [
        (  # a state on its own line, then the phone
            ["TEO HENG STATIONERY & BOOKS", "(001451637-M)", "NO. 53, JALAN BESAR, 45600 BATANG BERJUNTAI",
             "SELANGOR DARUL EHSAN", "TEL:03-3271 9872 FAX:03-3271 9481"],
            "NO. 53, JALAN BESAR, 45600 BATANG BERJUNTAI SELANGOR DARUL EHSAN",
        ),
        (  # the branch under the address; a plot number ('P.T. 33198') is no postcode
            ["99 SPEED MART S/B (519537-X)", "LOT P.T. 33198, BATU 4", "JALAN KAPAR, MUKIM KAPAR",
             "42100 KLANG, SELANGOR", "1181-TMN SRI SINAR", "GST ID. NO : 000181747712"],
            "LOT P.T. 33198, BATU 4 JALAN KAPAR, MUKIM KAPAR 42100 KLANG, SELANGOR 1181-TMN SRI SINAR",
        ),
        (  # a second postcode-and-town line
            ["GH DISTRIBUTOR & MARKETING SDN BHD", "(1097826-H)", "95, Beach Road, 10300 Penang.",
             "10400 Penang.", "Tel:04-262 0635"],
            "95, Beach Road, 10300 Penang. 10400 Penang.",
        ),
        (  # a country ends the address: the mall's name under it is not part of it
            ["KEDAI MAJU SDN BHD", "No 8, Jalan 7/118B, Desa Tun Razak", "56000 Kuala Lumpur, Malaysia",
             "SUNWAY VELOCITY"],
            "No 8, Jalan 7/118B, Desa Tun Razak 56000 Kuala Lumpur, Malaysia",
        ),
    ]  # fmt: skip
    for n, (head, address) in enumerate(cases):
        body = run_extraction(parse(_head(tmp_path / f"r{n}.pdf", head)), RECEIPT_SCHEMA)
        assert body["results"]["address"] == address, head
        assert _cited(body, "address") == address


def test_an_address_ends_at_a_phone_number_or_a_label_line_and_a_mall_name_over_it_starts_it(tmp_path, parse):
    cases = [
        (  # the phone starts on the postcode line: the line is cut there; a trailing comma is kept as printed
            ["MOONLIGHT CAKE HOUSE SDN BHD", "(GST Reg No: 001559298048)", "No.1, Jalan Permas 10/5,",
             "81750 Johor Bahru, Johor, Tel No.: 07-387 3322", "www.moonlightcake.com"],
            "No.1, Jalan Permas 10/5, 81750 Johor Bahru, Johor,",
            "No.1, Jalan Permas 10/5, 81750 Johor Bahru, Johor,",
        ),
        (  # a phone number whose label OCR garbled, and a label line ('Pay By: CASH'), end it
            ["GUARDIAN HEALTH AND BEAUTY SDN BHD", "No 15 Jalan Bandar Rawang 10", "Bandar Baru Rawang",
             "lel:05-60952052"],
            "No 15 Jalan Bandar Rawang 10 Bandar Baru Rawang",
            "No 15 Jalan Bandar Rawang 10 Bandar Baru Rawang",
        ),
        (
            ["DOMINO'S PIZZA SDN BHD", "No.12, Jalan Permas Jaya 10,", "Bandar Baru Permas Jaya, 81750 Masai",
             "Johor", "CARRY OUT TIMED Pay By: CASH"],
            "No.12, Jalan Permas Jaya 10, Bandar Baru Permas Jaya, 81750 Masai Johor",
            "No.12, Jalan Permas Jaya 10, Bandar Baru Permas Jaya, 81750 Masai Johor",
        ),
        (  # a mall's name over the numbered lines belongs to the address
            ["GUARDIAN HEALTH AND BEAUTY SDN BHD", "Guardian Giant Brem Mall", "G-19 Level G", "Brem Mall",
             "Te1:03-62584088"],
            "Guardian Giant Brem Mall G-19 Level G Brem Mall",
            "Guardian Giant Brem Mall G-19 Level G Brem Mall",
        ),
        (  # a branch's name with a number in it is not the address's first line
            ["MPH BOOKSTORES SDN BHD", "GST No: 000542572544", "MPH One Utama Phase 2", "Lot S319, 2nd Floor,",
             "1 Utama Shopping Centre,", "No1, Lebuh Bandar Utama,47800 P.Jaya", "Tel:03-77259003 Fax:03-77224003"],
            "Lot S319, 2nd Floor, 1 Utama Shopping Centre, No1, Lebuh Bandar Utama,47800 P.Jaya",
            "Lot S319, 2nd Floor, 1 Utama Shopping Centre, No1, Lebuh Bandar Utama,47800 P.Jaya",
        ),
        (  # the trading name and its address printed above the legal name ('Owned By :')
            ["SANYU STATIONERY SHOP", "NO. 31G&33G, JALAN SETIA INDAH X ,U13/X", "40170 SETIA ALAM",
             "Mobile /Whatsapps : +6012-918 7937", "TAX INVOICE", "Owned By :", "SANYU SUPPLY SDN BHD (1135772-K)"],
            "NO. 31G&33G, JALAN SETIA INDAH X ,U13/X 40170 SETIA ALAM",
            "NO. 31G&33G, JALAN SETIA INDAH X ,U13/X 40170 SETIA ALAM",
        ),
    ]  # fmt: skip
    for n, (head, address, cited) in enumerate(cases):
        body = run_extraction(parse(_head(tmp_path / f"r{n}.pdf", head)), RECEIPT_SCHEMA)
        assert body["results"]["address"] == address, head
        assert _cited(body, "address") == cited  # exactly the words it came from, and no others


def test_ocr_slips_in_an_address_are_mended_on_ocr_words_only(tmp_path, parse):
    head = [
        "KEDAI MAJU SDN BHD",
        "NO 29O, Leve1 4, LOT G3O, TAMAN SEGAR. WISMA UOA II.",
        "JALAN KLANG LAMA, 4600D PETALING JAYA,",
        "SELANGOR.",
        "TEL: 03-4021 0276",
    ]
    printed = "NO 29O, Leve1 4, LOT G3O, TAMAN SEGAR. WISMA UOA II. JALAN KLANG LAMA, 4600D PETALING JAYA, SELANGOR."
    pdf = _head(tmp_path / "r.pdf", head)
    ocr = run_extraction(_as_ocr(parse(pdf)), RECEIPT_SCHEMA)
    # An O or a D among digits is a 0, a 1 among small letters an l, a unit number's last O a 0, a full stop inside
    # the address after a word (or a numeral) the comma OCR misread; the last full stop stays.
    assert ocr["results"]["address"] == (
        "NO 290, Level 4, LOT G30, TAMAN SEGAR, WISMA UOA II, JALAN KLANG LAMA, 46000 PETALING JAYA, SELANGOR."
    )
    assert _cited(ocr, "address") == printed  # the citation cites the words as OCR read them
    # A text layer's words are what the document says: nothing is mended.
    text_layer = run_extraction(parse(pdf), RECEIPT_SCHEMA)
    assert text_layer["results"]["address"] == printed


def test_a_lone_comma_that_line_ocr_spaced_off_joins_its_word(tmp_path, parse):
    head = ["KEDAI MAJU SDN BHD", "LOT 1851-A, JALAN KPB 6,", "KAWASAN PERINDUSTRIAN BALAKONG , 43300 SERI KEMBANGAN",
            "TEL: 03-4021 0276"]  # fmt: skip
    body = run_extraction(_as_line_ocr(parse(_head(tmp_path / "r.pdf", head))), RECEIPT_SCHEMA)
    assert body["results"]["address"] == (
        "LOT 1851-A, JALAN KPB 6, KAWASAN PERINDUSTRIAN BALAKONG, 43300 SERI KEMBANGAN"
    )
    assert _cited(body, "address") == "LOT 1851-A, JALAN KPB 6, KAWASAN PERINDUSTRIAN BALAKONG , 43300 SERI KEMBANGAN"


def test_a_full_stop_closing_a_town_after_its_postcode_and_abbreviations_stay(tmp_path, parse):
    head = ["KEDAI MAJU SDN BHD", "LOT P.T. 2811, JLN. ANGSA, 10300 Penang.", "10400 Penang.", "TEL: 04-262 0635"]
    body = run_extraction(_as_ocr(parse(_head(tmp_path / "r.pdf", head))), RECEIPT_SCHEMA)
    assert body["results"]["address"] == "LOT P.T. 2811, JLN. ANGSA, 10300 Penang. 10400 Penang."
    head = ["ACME HARDWARE INC.", "1200 Sunset Blvd. Suite 4", "Los Angeles, CA 90028", "Phone: (213) 555-0100"]
    body = run_extraction(_as_ocr(parse(_head(tmp_path / "u.pdf", head))), RECEIPT_SCHEMA)
    assert body["results"]["address"] == "1200 Sunset Blvd. Suite 4 Los Angeles, CA 90028"


def test_a_shop_name_broken_over_lines_or_under_noise_and_ocr_slips_in_legal_forms(tmp_path, parse):
    cases = [
        (  # a name broken over three lines, its registration number with no brackets under it
            ["AIK HUAT HARDWARE", "ENTERPRISE (SETIA", "ALAM) SDN BHD", "822737-X", "NO. 17-G, JALAN SETIA INDAH"],
            "AIK HUAT HARDWARE ENTERPRISE (SETIA ALAM) SDN BHD", False,
        ),
        (  # stops and brackets do not make a name part less of a name; the noise above it is no name
            ["EEN", "31804036", "MR. D.I.Y. (M) SDN BHD", "(CO.REG :860671-D)", "LOT 1851-A, JALAN KPB 6,"],
            "MR. D.I.Y. (M) SDN BHD", False,
        ),
        (  # no legal form: the line its registration number is printed under
            ["Cele R", "MBB 264100", "KEDAI PAPAN YEW CHUAN", "(0005583085-K)", "LOT 276 JALAN BANTING"],
            "KEDAI PAPAN YEW CHUAN", False,
        ),
        (  # what OCR makes of a legal form's letters, and of the brackets around a name part
            ["MOONLIGHT CAKE HOUSE SON BHD 8OZTZ5-U", "No.1, Jalan Permas 10/5,"],
            "MOONLIGHT CAKE HOUSE SDN BHD", True,
        ),
        (["99 SPEED MART 5/B (519537-X)", "LOT P.T. 2811, JALAN ANGSA,"], "99 SPEED MART S/B", True),
        (["99 SPEED MART S/D (519537-X)", "LOT P.T. 2811, JALAN ANGSA,"], "99 SPEED MART S/B", True),
        (["KEDAI MAJU SDN BHU", "LOT 3, JALAN BESAR,"], "KEDAI MAJU SDN BHD", True),
        (["GARDENIA BAKERIES (KL)SDN BHD", "Lot 3, Jalan Pelabur 23/1,"], "GARDENIA BAKERIES (KL) SDN BHD", True),
        (["BEMED (SP} SDN. BHD.", "No.49, Jalan Dinar G U3/G,"], "BEMED (SP) SDN. BHD.", True),
    ]  # fmt: skip
    for n, (head, company, ocr) in enumerate(cases):
        output = parse(_head(tmp_path / f"r{n}.pdf", head))
        body = run_extraction(_as_ocr(output) if ocr else output, RECEIPT_SCHEMA)
        assert body["results"]["company"] == company, head
        cited = _cited(body, "company")
        assert cited in " ".join(head) and not any(t in cited for t in ("822737", "8OZTZ5", "519537", "CO.REG")), cited


def test_a_rounding_line_gives_the_total_paid_and_a_rate_breakdown_does_not(tmp_path, parse):
    head = ["KEDAI MAJU SDN BHD", "NO 3, JALAN BESAR,"]
    cases = [
        (
            [(200, 300, "MILK 1L"), (400, 300, "RM13.58"), (200, 320, "Total Sales (Inclusive GST)"),
             (400, 320, "RM 13.58"), (200, 334, "Rounding Adjustment"), (400, 334, "RM .02"), (200, 348, "Rounding"),
             (400, 348, "RM 13.60"), (200, 362, "CASH"), (400, 362, "RM 14.00")],
            "13.60",
        ),
        (  # the adjustment alone on a 'Rounding' line is no total
            [(200, 300, "TEA"), (400, 300, "29.68"), (200, 320, "Total Sales (Inclusive GST)"), (400, 320, "29.68"),
             (200, 334, "Rounding"), (400, 334, "0.00"), (200, 348, "CASH"), (400, 348, "50.00")],
            "29.68",
        ),
        (
            [(200, 300, "Total 0% supplies:"), (400, 300, "26.61"), (200, 314, "Total 6% supplies (excl. GST):"),
             (400, 314, "-2.88"), (200, 328, "Total Payable:"), (400, 328, "23.56"), (200, 342, "Cash"),
             (400, 342, "50.00")],
            "23.56",
        ),
    ]  # fmt: skip
    for n, (tail, total) in enumerate(cases):
        body = run_extraction(parse(_head(tmp_path / f"t{n}.pdf", head, tail)), RECEIPT_SCHEMA)
        assert body["results"]["total"] == total
        assert _cited(body, "total").endswith(total)


def test_a_rounding_line_alone_and_a_total_with_ocrs_hyphen_for_its_point(tmp_path, parse):
    head = ["KEDAI MAJU SDN BHD", "NO 3, JALAN BESAR,"]
    # The only total line OCR read as one is the rounded one ('TotalSales' ran together).
    tail = [(200, 300, "TotalSales (Inclusive GST)"), (400, 300, "RM 52.08"), (200, 314, "Rounding Adjustment"),
            (400, 314, "RM .02"), (200, 328, "Rounding"), (400, 328, "RM 52.10"), (200, 342, "CASH"),
            (400, 342, "RM 60.00")]  # fmt: skip
    body = run_extraction(parse(_head(tmp_path / "a.pdf", head, tail)), RECEIPT_SCHEMA)
    assert body["results"]["total"] == "52.10"
    tail = [(200, 300, "KISMIS 500GM"), (400, 300, "19.80"), (200, 314, "NET TOTAL"), (400, 314, "19-80"),
            (200, 328, "CASH"), (400, 328, "30.20")]  # fmt: skip
    body = run_extraction(_as_ocr(parse(_head(tmp_path / "b.pdf", head, tail))), RECEIPT_SCHEMA)
    assert body["results"]["total"] == "19.80"
    assert _cited(body, "total") == "19-80"


def test_a_total_whose_amount_ocr_put_on_a_line_of_its_own_beside_its_label(tmp_path, parse):
    """A skewed scan: the amount's box sits higher than its label's, and the two are read as two lines."""
    head = ["KEDAI MAJU SDN BHD", "NO 3, JALAN BESAR,"]
    tail = [
        (200, 300, "TEA"), (400, 300, "24.00"), (200, 330, "Rounding"), (400, 330, "0.00"), (450, 352, "29.68"),
        (200, 359, "Total Sales (Inclusive of GST) :"), (200, 380, "CASH : 29.68"),
    ]  # fmt: skip
    body = run_extraction(parse(_head(tmp_path / "t.pdf", head, tail)), RECEIPT_SCHEMA)
    assert body["results"]["total"] == "29.68"
    assert _cited(body, "total") == "29.68"  # the amount's own word, not the label's
    assert sum(len(c["bboxes"]) for c in body["citations"]["total"]) == 1
    # An address does not run on into the item lines: a line ending in an amount is no address line.
    assert body["results"]["address"] == "NO 3, JALAN BESAR,"


def test_dates_run_into_a_label_phone_numbers_and_a_misread_label_are_not_taken(tmp_path, parse):
    head = ["KEDAI MAJU SDN BHD", "NO 3, JALAN BESAR,", "Tel. : 05.22.95.66.66"]
    cases = [
        ([(200, 300, "Date: 21/05/2018Time: 11:12:56AM"), *TAIL], "21/05/2018"),
        ([(200, 300, "Le 30/03/2018 a 12:36 CAISSIER 1"), *TAIL], "30/03/2018"),
        ([(200, 300, "Kate"), (200, 314, "6%"), (200, 340, "17:45 18/05/18"), *TAIL], "18/05/18"),
    ]
    for n, (tail, date) in enumerate(cases):
        body = run_extraction(parse(_head(tmp_path / f"d{n}.pdf", head, tail)), RECEIPT_SCHEMA)
        assert body["results"]["date"] == date
        assert date in _cited(body, "date")


def test_addresses_of_other_countries_start_at_their_street_line(tmp_path, parse):
    """The rules are not Malaysian: a house number first or last, a street word abbreviated or compounded."""
    cases = [
        (["ACME HARDWARE INC.", "123 Main Street, Suite 4", "Springfield, IL 62704-1234", "Phone: (217) 555-0100"],
         "123 Main Street, Suite 4 Springfield, IL 62704-1234"),
        (["Joe's Diner LLC", "45 Ocean Ave.", "Brooklyn, NY 11201", "Server: Ann"], "45 Ocean Ave. Brooklyn, NY 11201"),
        (["Bäckerei Müller GmbH", "Hauptstraße 5", "80331 München", "Tel. 089 1234567"], "Hauptstraße 5 80331 München"),
        (["Boulangerie Dupont SARL", "12 rue de la Paix", "75002 Paris", "France", "SIRET 123 456 789 00012"],
         "12 rue de la Paix 75002 Paris France"),
    ]  # fmt: skip
    for n, (head, address) in enumerate(cases):
        body = run_extraction(parse(_head(tmp_path / f"r{n}.pdf", head)), RECEIPT_SCHEMA)
        assert body["results"]["address"] == address, head
        assert _cited(body, "address") == address


def test_a_speck_read_as_a_digit_between_the_name_and_the_address_does_not_end_the_address(tmp_path, parse):
    head = [
        "ENW HARDWARE CENTRE (M) SDN. BHD.",
        "1",
        "Co. Reg. No.: 795225-A",
        "No G3, Blk G, Jln PJU 1A/3,",
        "Ara Damansara, 47301",
        "Petaling Jaya, Selangor Darul Ehsan.",
        "TEL: 03-7832 6929",
    ]
    body = run_extraction(parse(_head(tmp_path / "speck.pdf", head)), RECEIPT_SCHEMA)
    want = "No G3, Blk G, Jln PJU 1A/3, Ara Damansara, 47301 Petaling Jaya, Selangor Darul Ehsan."
    assert body["results"]["address"] == want
    assert _cited(body, "address") == " ".join(head[3:6])
