"""Write the loader test corpus (good and bad client files) into this folder.

Files are written from the literal text below so the bytes are exact: cp1251 files are encoded
here, BOM files get their BOM, Excel and Parquet files are built with pandas. The expectations
(line numbers, reasons) live in tests/test_data.py and were counted by hand from this text.

Run: python tests/bad_files/make_corpus.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent

# name -> (encoding, text). Line 1 is the header.
TEXT_FILES: dict[str, tuple[str, str]] = {
    # ---- good files ------------------------------------------------------------------------
    "good_tx_utf8.csv": (
        "utf-8",
        (
            "customer_id,date,amount,order_id\n"
            "C1,2025-03-01,100.50,O1\n"
            "C2,2025-03-02 14:30:00,0,O2\n"
            "C1,2025-03-05,1234.5,O3\n"
        ),
    ),
    "good_tx_bom.csv": (
        "utf-8-sig",
        ("Клиент,Дата,Сумма\nK1,2025-01-10,50\nK2,2025-01-11,75.25\n"),
    ),
    "good_tx_cp1251.csv": (
        "cp1251",
        (
            "Код клиента;Дата покупки;Сумма чека;Возврат;Магазин\n"
            "К-001;01.03.2025;1 234,50;нет;Тверская\n"
            "К-002;02.03.25;99,90;нет;Арбат\n"
            "К-001;05.03.2025 18:45;-1\u00a0000,00;да;Тверская\n"
            "К-003;06.03.2025;15;нет;Арбат\n"
        ),
    ),
    "good_tx_tab.tsv": (
        "utf-8",
        ("client\tpurchase_date\trevenue\nA\t2025-02-01\t10.5\nB\t2025-02-02\t20\n"),
    ),
    "good_tx_custom_headers.csv": (
        "utf-8",
        ("Buyer No,When,Paid RUB\nX1,2025-04-01,500\nX2,2025-04-02,250.5\n"),
    ),
    "mapping.yaml": (
        "utf-8",
        (
            "transactions:\n"
            "  customer_id: Buyer No\n"
            "  date: When\n"
            "  amount: Paid RUB\n"
            "survey:\n"
            "  score: Оценка NPS\n"
        ),
    ),
    "mapping_flat.yaml": ("utf-8", ("customer_id: Buyer No\namount: Paid RUB\n")),
    "mapping_bad.yaml": ("utf-8", "transactions:\n  money: Paid RUB\n"),
    "good_survey_ru.csv": (
        "cp1251",
        (
            "Респондент;Дата опроса;Оценка;Комментарий\n"
            "R1;01.02.2025;10;Отлично\n"
            "R2;01.02.2025;0;\n"
            'R3;02.02.2025;7;"Нормально; но дорого"\n'
        ),
    ),
    "good_exit_ru.csv": (
        "utf-8",
        (
            "Клиент,Дата,Причина ухода,Оценка: цена,Оценка: качество,rating_delivery\n"
            "C1,2025-05-01,Цена,2,4,\n"
            "C2,2025-05-02,конкуренты,5,3,1\n"
            "C3,2025-05-03,переехал,3,3,3\n"
        ),
    ),
    "good_campaign_ru.csv": (
        "utf-8",
        (
            "Клиент,Группа,Дата начала\n"
            "C1,тест,01.07.2025\n"
            "C2,контроль,01.07.2025\n"
            "C3,treatment,2025-07-01\n"
        ),
    ),
    # ---- bad rows: transactions ------------------------------------------------------------
    "tx_negative_amount.csv": (
        "utf-8",
        ("customer_id,date,amount\nC1,2025-03-01,100\nC2,2025-03-01,-40\nC3,2025-03-01,60\n"),
    ),
    "tx_bad_date.csv": (
        "utf-8",
        ("customer_id,date,amount\nC1,31.02.2025,10\nC2,yesterday,10\nC3,2025-03-01,10\nC4,,10\n"),
    ),
    "tx_amount_text.csv": (
        "utf-8",
        (
            "customer_id,date,amount\n"
            "C1,2025-03-01,abc\n"
            "C2,2025-03-01,\n"
            "C3,2025-03-01,12.5\n"
            "C4,2025-03-01,inf\n"
        ),
    ),
    "tx_empty_customer.csv": (
        "utf-8",
        ("customer_id,date,amount\nC1,2025-03-01,10\n  ,2025-03-01,10\n"),
    ),
    "tx_duplicate_order.csv": (
        "utf-8",
        (
            "customer_id,date,amount,order_id,is_refund\n"
            "C1,2025-03-01,100,O1,0\n"
            "C1,2025-03-01,100,O1,0\n"
            "C1,2025-03-04,-100,O1,1\n"
            "C2,2025-03-01,100,O1,0\n"
        ),
    ),
    "tx_refund_flag_bad.csv": (
        "utf-8",
        (
            "customer_id,date,amount,is_refund\n"
            "C1,2025-03-01,-10,maybe\n"
            "C2,2025-03-01,-10,true\n"
            "C3,2025-03-01,10,да\n"
        ),
    ),
    "tx_extra_field.csv": (
        "utf-8",
        ("customer_id,date,amount\nC1,2025-03-01,10\nC2,2025-03-01,1,50\nC3,2025-03-01,10\n"),
    ),
    # rows ever wider than the header: after three widenings the loader falls back to the
    # python engine, which must keep the same line numbers
    "tx_ragged.csv": (
        "utf-8",
        (
            "customer_id,date,amount\n"
            "C1,2025-03-01,1,x\n"
            "C2,2025-03-01,1,x,y\n"
            'C3,"2025-03-01",1,x,"y\nz",z\n'
            "C4,2025-03-01,1,x,y,z,w\n"
            "C5,2025-03-01,10,\n"
        ),
    ),
    "tx_quoted_newline.csv": (
        "utf-8",
        (
            "customer_id,date,amount,store\n"
            'C1,2025-03-01,10,"Main\nstreet"\n'
            "C2,2025-03-01,oops,Mall\n"
        ),
    ),
    "tx_blank_lines.csv": (
        "utf-8",
        ("customer_id,date,amount\nC1,2025-03-01,10\n\nC2,2025-13-01,10\n\n"),
    ),
    "tx_cp1251_bad.csv": (
        "cp1251",
        ("Клиент;Дата;Сумма\nК1;01.03.2025;1 000,50\nК2;01.03.2025;сто\nК3;32.03.2025;5,00\n"),
    ),
    # ---- bad rows: survey ------------------------------------------------------------------
    "survey_bad_scores.csv": (
        "utf-8",
        (
            "respondent_id,date,score\n"
            "R1,2025-02-01,11\n"
            "R2,2025-02-01,-1\n"
            "R3,2025-02-01,7.5\n"
            "R4,2025-02-01,десять\n"
            "R5,2025-02-01,\n"
            "R6,2025-02-01,9\n"
        ),
    ),
    "survey_duplicate.csv": (
        "utf-8",
        (
            "respondent_id,date,score\n"
            "R1,2025-02-01,9\n"
            "R2,2025-02-01,3\n"
            "R1,01.02.2025,10\n"
            "R1,2025-02-02,10\n"
        ),
    ),
    "survey_bad_date.csv": (
        "utf-8",
        ("customer_id,date,score\nC1,01/02/25,9\nC2,2025-02-01,8\n"),
    ),
    # ---- bad rows: exit survey -------------------------------------------------------------
    "exit_bad_rating.csv": (
        "utf-8",
        (
            "customer_id,date,reason,rating_price,rating_service\n"
            "C1,2025-05-01,price,6,3\n"
            "C2,2025-05-01,service,4,0\n"
            "C3,2025-05-01,quality,4,abc\n"
            "C4,2025-05-01,other,1,5\n"
        ),
    ),
    "exit_empty_reason.csv": (
        "utf-8",
        ("customer_id,date,reason\nC1,2025-05-01,\nC2,2025-05-01,обслуживание\n"),
    ),
    # ---- bad rows: campaign ----------------------------------------------------------------
    "campaign_bad_group.csv": (
        "utf-8",
        (
            "customer_id,group,start_date\n"
            "C1,treatment,2025-07-01\n"
            "C2,B,2025-07-01\n"
            "C3,control,2025-07-01\n"
        ),
    ),
    "campaign_both_groups.csv": (
        "utf-8",
        (
            "customer_id,group,start_date\n"
            "C1,treatment,2025-07-01\n"
            "C2,control,2025-07-01\n"
            "C1,control,2025-07-01\n"
            "C2,контроль,2025-07-01\n"
        ),
    ),
    "campaign_bad_start.csv": (
        "utf-8",
        ("customer_id,group,start_date\nC1,treatment,July 1\nC2,control,2025-07-01\n"),
    ),
    # ---- bad rows: customers summary -------------------------------------------------------
    "customers_bad.csv": (
        "utf-8",
        (
            "customer_id,frequency,recency,T,monetary\n"
            "C1,2,30,100,50.5\n"
            "C2,-1,0,100,0\n"
            "C3,2,120,100,40\n"
            "C4,0,0,100,25\n"
            "C5,1,-3,100,10\n"
            "C6,1,5,-2,10\n"
            "C7,1,5,50,-10\n"
            "C8,two,5,50,10\n"
            "C1,1,5,50,10\n"
            "C9,1.5,5,50,10\n"
            "C10,0,0,80,0\n"
        ),
    ),
    # ---- file-level problems ---------------------------------------------------------------
    "err_missing_column.csv": ("utf-8", "Клиент,Дата\nC1,2025-03-01\n"),
    "err_ambiguous.csv": ("utf-8", "customer_id,date,Сумма,Выручка\nC1,2025-03-01,1,1\n"),
    "err_empty.csv": ("utf-8", ""),
    "err_header_only.csv": ("utf-8", "customer_id,date,amount\n"),
    "err_unclosed_quote.csv": ("utf-8", 'customer_id,date,amount\nC1,2025-03-01,"10\n'),
}

BINARY_FILES: dict[str, bytes] = {
    # 0x98 is the one byte cp1251 leaves undefined, and it is not valid UTF-8 either.
    "err_undecodable.csv": b"customer_id,date,amount\nC1,2025-03-01,\x98\n",
    # what an .xlsx renamed to .csv looks like: a zip header with NUL bytes
    "err_binary.csv": b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
}

# Excel / Parquet: the same four transactions, typed the way those formats store them.
TYPED = pd.DataFrame(
    {
        "Клиент": ["C1", "C2", "C3", ""],
        "Дата": pd.to_datetime(["2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04"]),
        "Сумма": [10.5, -3.0, 7.0, 1.0],
    }
)

# ---- issue #16: line-item exports and survey-tool exports ---------------------------------------
# Expectations (counted by hand from this text) are in tests/data/test_line_items.py and
# tests/data/test_export_headers.py.
TEXT_FILES.update(
    {
        # UCI Online Retail shape: multi-line invoices, C-prefixed cancellations, float ids
        "lines_uci.csv": (
            "utf-8",
            (
                "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
                "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom\n"
                "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom\n"
                "536365,84406B,CREAM CUPID HEARTS COAT HANGER,8,12/1/2010 8:26,2.75,17850.0,United Kingdom\n"
                "536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:28,1.85,,United Kingdom\n"
                "536367,84879,ASSORTED COLOUR BIRD ORNAMENT,32,12/1/2010 8:34,1.69,13047.0,United Kingdom\n"
                "536367,22745,POPPY'S PLAYHOUSE BEDROOM,6,12/1/2010 8:34,2.10,13047.0,United Kingdom\n"
                "C536379,D,Discount,-1,12/1/2010 9:41,27.50,14527.0,United Kingdom\n"
                "536380,22086,PAPER CHAIN KIT,2,12/1/2010 9:45,0,14527.0,United Kingdom\n"
                "A563185,B,Adjust bad debt,1,8/12/2011 14:50,-11062.06,14527.0,United Kingdom\n"
                "536381,22139,RETROSPOT TEA SET,abc,12/2/2010 10:00,4.95,13047.0,United Kingdom\n"
                "C536383,35004C,SET OF 3 COLOURED FLYING DUCKS,-2,12/2/2010 10:05,4.65,13047.0,United Kingdom\n"
                "536384,82484,WOOD BLACK BOARD,3,12/32/2010 10:06,6.45,13047.0,United Kingdom\n"
            ),
        ),
        # Russian 1C / POS receipt lines: cp1251, ";", decimal comma, «Вид операции»
        "lines_1c_ru.csv": (
            "cp1251",
            (
                "Номер чека;Дата чека;Карта покупателя;Товар;Количество;Цена;Сумма со скидкой;"
                "Вид операции\n"
                "000123;01.03.2025 10:15;2000000012345;Молоко;2;89,90;170,00;Продажа\n"
                "000123;01.03.2025 10:15;2000000012345;Хлеб;1;45,00;45,00;Продажа\n"
                "000124;01.03.2025 11:00;;Кофе;1;350,00;350,00;Продажа\n"
                "000125;02.03.2025 12:30;2000000067890;Сыр;1;520,00;494,00;Продажа\n"
                "000125;02.03.2025 12:30;2000000067890;Вино;1;0,00;0,00;Продажа\n"
                "000126;03.03.2025 18:45;2000000012345;Молоко;-1;89,90;-85,00;Возврат\n"
            ),
        ),
        # a status / type column: a return under the sale's receipt number, a refund
        "lines_status.csv": (
            "utf-8",
            (
                "Receipt No,Date,Customer,Type,Quantity,Price\n"
                "R1,2025-05-01,K1,Sale,1,100\n"
                "R1,2025-05-01,K1,Sale,2,50\n"
                "R1,2025-05-03,K1,Return,1,50\n"
                "R2,2025-05-04,K2,Refund,1,20\n"
                "R3,2025-05-05,K2,Sale,1,abc\n"
            ),
        ),
        # Shopify orders export: Name = order, Email = customer, Total on the first line only
        "lines_shopify.csv": (
            "utf-8",
            (
                "Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,"
                "Lineitem price,Total\n"
                "#1001,ann@example.com,paid,2025-04-01 09:00:00 +0300,2,Mug,12.50,40.00\n"
                "#1001,ann@example.com,,2025-04-01 09:00:00 +0300,1,Tea,15.00,\n"
                "#1002,bob@example.com,refunded,2025-04-02 10:00:00 +0300,1,Teapot,30.00,30.00\n"
                "#1003,ann@example.com,paid,2025-04-03 11:00:00 +0300,3,Cup,4.00,12.00\n"
            ),
        ),
        # WooCommerce "one row per item" export
        "lines_woocommerce.csv": (
            "utf-8",
            (
                "order_id,order_number,order_date,status,billing_email,item_name,item_quantity,"
                "item_total,order_total\n"
                "4993,4993,2016-05-31 00:37:00,completed,c@example.com,Hoodie,1,30.00,45.00\n"
                "4993,4993,2016-05-31 00:37:00,completed,c@example.com,Cap,1,15.00,45.00\n"
                "4994,4994,2016-06-01 10:00:00,refunded,d@example.com,Hoodie,1,30.00,30.00\n"
            ),
        ),
        # quantity × price without an order id: one row per line
        "lines_no_order.csv": (
            "utf-8",
            "client,date,qty,price\nA,2025-06-01,2,10\nA,2025-06-01,1,5\nB,2025-06-02,-1,10\n",
        ),
        # ids saved as floats (a CSV written from a column with gaps); "2.5" is not an id float
        "tx_float_ids.csv": (
            "utf-8",
            (
                "customer_id,date,amount,order_id\n"
                "17850.0,2025-03-01,10,1.0\n"
                "13047.0,2025-03-02,20,2.5\n"
                "17850,2025-03-03,30,3\n"
            ),
        ),
        # Google Forms, Russian: «Отметка времени», the question text as headers
        "survey_google_ru.csv": (
            "utf-8",
            (
                'Отметка времени,"Насколько вероятно, что вы порекомендуете наш магазин '
                'друзьям? (0–10)",Почему вы поставили такую оценку?,Адрес электронной почты\n'
                "01.03.2025 10:15:32,9,Быстрая доставка,anna@example.com\n"
                "01.03.2025 11:02:10,6,,boris@example.com\n"
                "02.03.2025 09:00:00,11,Опечатка,vera@example.com\n"
                "02.03.2025 12:00:00,10,Отлично,\n"
            ),
        ),
        # Google Forms, English (US dates)
        "survey_google_en.csv": (
            "utf-8",
            (
                "Timestamp,How likely are you to recommend Acme to a friend or colleague?,"
                "What is the main reason for your score?\n"
                "3/15/2025 10:22:01,10,Great staff\n"
                "3/16/2025 18:05:44,7,\n"
                "3/16/2025 19:00:00,,No score\n"
            ),
        ),
        # Yandex Forms
        "survey_yandex.csv": (
            "utf-8",
            (
                'ID,Время создания,"Насколько вероятно, что вы порекомендуете нас друзьям?",'
                "Комментарий\n"
                "101,2025-03-01 10:15:32,8,\n"
                "102,2025-03-01 11:00:00,десять,Хорошо\n"
                "103,2025-03-02 09:30:00,0,Плохо\n"
            ),
        ),
        # SurveyMonkey: a second header row under the questions
        "survey_surveymonkey.csv": (
            "utf-8",
            (
                "Respondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,"
                "First Name,Last Name,Custom Data 1,How likely is it that you would recommend "
                "us to a friend or colleague?,What is the primary reason for your score?\n"
                ",,,,,,,,,Response,Open-Ended Response\n"
                "114211111111,431111111,03/14/2025 09:00:00 AM,03/14/2025 09:02:11 AM,"
                "1.2.3.4,,,,,9,Friendly\n"
                "114211111112,431111111,03/14/2025 10:00:00 AM,03/15/2025 10:01:00 AM,"
                "1.2.3.5,,,,,3,Slow\n"
                "114211111112,431111111,03/14/2025 10:00:00 AM,03/15/2025 10:01:00 AM,"
                "1.2.3.5,,,,,3,Slow\n"
            ),
        ),
        # Typeform
        "survey_typeform.csv": (
            "utf-8",
            (
                "#,How likely are you to recommend Acme to a friend?,What is the main reason "
                "for your score?,Start Date (UTC),Submit Date (UTC),Network ID\n"
                "abc123,10,Love it,2025-03-01 10:00:00,2025-03-01 10:01:00,n1\n"
                "def456,5,Meh,2025-03-02 23:59:00,2025-03-03 00:03:00,n2\n"
            ),
        ),
        # headers no alias knows: validate suggests a mapping
        "unknown_headers_ru.csv": (
            "utf-8",
            "Клиентский номер;Время;Оплачено, руб\nK1;05.03.2025;100\nK2;06.03.2025;250,5\n",
        ),
    }
)

# Excel line items: ids stored as numbers (13607.0 in the file), a gap for an anonymous line.
TYPED_LINES = pd.DataFrame(
    {
        "InvoiceNo": ["540001", "540001", "540002", "C540003"],
        "Quantity": [2, 1, 4, -1],
        "InvoiceDate": pd.to_datetime(
            ["2011-01-04 10:00", "2011-01-04 10:00", "2011-01-05 11:30", "2011-01-06 09:15"]
        ),
        "UnitPrice": [3.5, 10.0, 1.25, 3.5],
        "CustomerID": [13607.0, 13607.0, float("nan"), 13607.0],
    }
)


def build(folder: Path = HERE) -> None:
    """(Re)write every corpus file into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (encoding, text) in TEXT_FILES.items():
        # newline="" keeps "\n" as written on every platform
        with open(folder / name, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
    for name, data in BINARY_FILES.items():
        (folder / name).write_bytes(data)
    TYPED.to_excel(folder / "typed_tx.xlsx", index=False)
    TYPED_LINES.to_excel(folder / "lines_typed.xlsx", index=False)
    TYPED.to_parquet(folder / "typed_tx.parquet", index=False)


if __name__ == "__main__":
    build()
