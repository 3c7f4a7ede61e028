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
    TYPED.to_parquet(folder / "typed_tx.parquet", index=False)


if __name__ == "__main__":
    build()
