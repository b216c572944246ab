"""SW (申万) industry codes of every vintage → SW2021 level-1 names, so every quarter speaks one taxonomy.

The industry history (`stock_industry_history.csv`) mixes three code vintages:

* **SW2021** (rows effective from 2021-07-30, the revision's publication; also any code whose level-1
  digits exist only in SW2021: 74 煤炭, 75 石油石化, 76 环保, 77 美容护理) — named from `sw2021_codes.csv`;
* **SW2014** (rows effective before that, including the pre-2014 listing dates of stocks classified in
  2015 when the file was built: 美的集团 000333 since 2013 under 330102) — mapped by this crosswalk;
* **older SW** (level-1 codes 25, 26, 31, 32, 44, 47 that SW2014 dropped; each such stock has a
  2014-01-01 row that supersedes it) — no SW2021 name.

The crosswalk maps the SW2014 level-1 code to its SW2021 successor (same code; renamed where SW2021
renamed it: 化工 → 基础化工, 纺织服装 → 纺织服饰, 商业贸易 → 商贸零售, 休闲服务 → 社会服务, 电气设备 → 电力设备),
and a level-2 code where SW2021 moved a whole SW2014 sub-industry to another level-1 industry: 采掘 was
split (石油开采 and 采掘服务 → 石油石化, 煤炭开采 → 煤炭, 其他采掘 → 钢铁), 石油化工 → 石油石化, 轮胎 (化工)
→ 汽车, 水务 and 环保工程 (公用事业) → 环保. These moves were read off the stocks the 2021 revision
reclassified (≥ 2/3 of them went that way); a test checks the crosswalk against every stock that has
both an SW2014 and an SW2021 row. Smaller moves inside a level-2 industry (e.g. 日用化学品 → 美容护理) are
not separable at level 2 and keep the level-1 successor: an approximation, stated in docs/data-format.md.
"""

from __future__ import annotations

import pandas as pd

SW2021_PUBLISHED = pd.Timestamp("2021-07-30")
SW2021_ONLY_L1 = frozenset({"74", "75", "76", "77"})

SW2014_L1_TO_SW2021: dict[str, str] = {
    "11": "农林牧渔", "22": "基础化工", "23": "钢铁", "24": "有色金属", "27": "电子", "28": "汽车",
    "33": "家用电器", "34": "食品饮料", "35": "纺织服饰", "36": "轻工制造", "37": "医药生物", "41": "公用事业",
    "42": "交通运输", "43": "房地产", "45": "商贸零售", "46": "社会服务", "48": "银行", "49": "非银金融",
    "51": "综合", "61": "建筑材料", "62": "建筑装饰", "63": "电力设备", "64": "机械设备", "65": "国防军工",
    "71": "计算机", "72": "传媒", "73": "通信",
}
# SW2014 level-2 industries that SW2021 moved, as a whole, to another level-1 industry.
SW2014_L2_TO_SW2021: dict[str, str] = {
    "2101": "石油石化",  # 采掘-石油开采
    "2102": "煤炭",  # 采掘-煤炭开采
    "2103": "钢铁",  # 采掘-其他采掘 (iron ore and others; the largest share went to 钢铁)
    "2104": "石油石化",  # 采掘-采掘服务 (oilfield services)
    "2201": "石油石化",  # 化工-石油化工
    "2206": "汽车",  # 化工-橡胶 (tyres → 汽车零部件)
    "4102": "环保",  # 公用事业-水务
    "4104": "环保",  # 公用事业-环保工程及服务
}
SW2014_L1_CODES = frozenset({*SW2014_L1_TO_SW2021, "21"})


def scheme_of(code: pd.Series, effective: pd.Series) -> pd.Series:
    """`sw2021`, `sw2014` or `sw_legacy` for each (6-digit code, effective date) row."""
    l1 = code.astype(str).str[:2]
    is21 = (effective >= SW2021_PUBLISHED) | l1.isin(SW2021_ONLY_L1)
    return pd.Series(["sw2021" if a else ("sw2014" if b else "sw_legacy")
                      for a, b in zip(is21, l1.isin(SW2014_L1_CODES), strict=True)], index=code.index)


def sw2014_l1_name(code: pd.Series) -> pd.Series:
    """SW2021 level-1 name of SW2014 codes (None where the code is not an SW2014 industry)."""
    text = code.astype(str)
    by_l2 = text.str[:4].map(SW2014_L2_TO_SW2021)
    return by_l2.where(by_l2.notna(), text.str[:2].map(SW2014_L1_TO_SW2021)).astype(object)
