"""Word lists the matcher relies on: weak and generic words, places, script dictionaries.

Token weights start from these priors and are then lowered further by how common a token is in
the reference set (see `similarity.TokenWeights`). Lists hold normalised forms: lower-case
ASCII, singular where the normaliser stems plurals.
"""

from __future__ import annotations

# fmt: off
# Words that say little about which company is meant; they lower weight, never delete.
WEAK_WORDS = frozenset({
    "co", "company", "corp", "corporation", "enterprise", "global", "group", "holding", "inc",
    "incorporated", "international", "limited", "ltd", "partner", "venture", "worldwide",
})

# Industry vocabulary shared by many unrelated companies in this field.
GENERIC_WORDS = frozenset({
    "advanced", "aluminum", "american", "americas", "anode", "auto", "base", "battery", "carbon",
    "cathode", "cell", "chemical", "clean", "cobalt", "component", "copper", "credit",
    "development", "earth", "electric", "electrolyte", "electronic", "element", "energy",
    "engineering", "environmental", "equipment", "export", "financial", "future", "graphite",
    "green", "high", "hydroxide", "import", "industry", "innovation", "investment", "iron",
    "lithium", "machinery", "manganese", "manufacturing", "material", "metal", "mineral", "mining",
    "molybdenum", "motor", "nano", "new", "nickel", "nonferrous", "operation", "plant", "power",
    "precision", "product", "rare", "recycling", "refining", "resource", "science", "semiconductor",
    "separator", "service", "silicon", "smelting", "solar", "solution", "special", "steel",
    "storage", "supply", "system", "tech", "technology", "trading", "tungsten", "vanadium", "works",
    "zinc",
})

# Never informative on their own; they stay in the token list with zero weight so that
# normalising an already normalised name changes nothing.
STOPWORDS = frozenset({
    "and", "das", "de", "del", "der", "des", "die", "du", "en", "et", "la", "le", "les", "of",
    "the", "und", "y",
})

# Spellings folded onto one form before weighting and comparison.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "tech": ("technology",), "techs": ("technology",), "technologies": ("technology",),
    "hitech": ("high", "technology",), "hightech": ("high", "technology",), "hi": ("high",),
    "sci": ("science",), "intl": ("international",), "internacional": ("international",),
    "mfg": ("manufacturing",), "chem": ("chemical",), "chemicals": ("chemical",),
    "automobile": ("auto",), "automobiles": ("auto",), "automotive": ("auto",),
    "motors": ("motor",), "grupo": ("group",), "industrias": ("industry",),
    "aluminium": ("aluminum",), "industrial": ("industry",), "industries": ("industry",),
    "mines": ("mining",), "mine": ("mining",), "minerals": ("mineral",),
    "electronics": ("electronic",), "matls": ("material",), "natl": ("national",),
    "grp": ("group",), "hldgs": ("holding",), "holdings": ("holding",),
}

# Romanised Chinese provinces and large cities. At the start of a name they are the locality
# of registration that English versions often drop; elsewhere they mark a local subsidiary.
CHINESE_PLACES = frozenset({
    "anhui", "baotou", "beijing", "changchun", "changsha", "changzhou", "chengdu", "china",
    "chongqing", "dalian", "dongguan", "foshan", "fujian", "fuzhou", "gansu", "ganzhou",
    "guangdong", "guangxi", "guangzhou", "guiyang", "guizhou", "hainan", "hangzhou", "harbin",
    "hebei", "hefei", "heilongjiang", "henan", "hubei", "huizhou", "hunan", "huzhou",
    "innermongolia", "jiangmen", "jiangsu", "jiangxi", "jiaxing", "jilin", "jinan", "jinhua",
    "kunming", "lanzhou", "liaoning", "luoyang", "nanchang", "nanjing", "nanning", "nantong",
    "neimenggu", "ningbo", "ningde", "ningxia", "qingdao", "qinghai", "quzhou", "shaanxi",
    "shandong", "shanghai", "shantou", "shanxi", "shaoxing", "shenyang", "shenzhen", "shijiazhuang",
    "sichuan", "suining", "suzhou", "taiyuan", "taizhou", "tianjin", "tibet", "tongling", "urumqi",
    "weifang", "wenzhou", "wuhan", "wuxi", "xiamen", "xining", "xinjiang", "xinyu", "xizang",
    "yancheng", "yangzhou", "yantai", "yibin", "yichun", "yinchuan", "yunnan", "zhangjiagang",
    "zhaoqing", "zhejiang", "zhengzhou", "zhongguo", "zhuhai", "zibo",
})

# Place words that, inside a name, usually denote a regional subsidiary or branch. Several
# words are stored joined ("northamerica") and found across word breaks.
WORLD_PLACES = frozenset({
    "alabama", "alberta", "america", "argentina", "arizona", "asia", "asiapacific", "australia",
    "belgium", "brasil", "brazil", "britishcolumbia", "canada", "carolina", "chile", "china",
    "congo", "czech", "deutschland", "drc", "europe", "finland", "france", "georgia", "germany",
    "hongkong", "hungary", "illinois", "india", "indiana", "indonesia", "italy", "japan", "kansas",
    "kentucky", "korea", "latinamerica", "malaysia", "manitoba", "mexico", "michigan", "morocco",
    "netherlands", "nevada", "newyork", "northamerica", "northcarolina", "norway", "novascotia",
    "ohio", "ontario", "pacific", "poland", "quebec", "singapore", "slovakia", "southamerica",
    "southcarolina", "spain", "sweden", "taiwan", "tennessee", "texas", "thailand", "thuringia",
    "uk", "unitedkingdom", "unitedstates", "us", "usa", "vietnam",
})

# Industry terms in Chinese, Japanese and Korean names, translated so that they meet their
# English counterparts instead of being transliterated into unrelated syllables.
CJK_TERMS: dict[str, str] = {
    # Chinese (simplified and traditional)
    "新能源": "new energy", "能源": "energy", "科技": "technology", "技术": "technology",
    "技術": "technology", "高科技": "high technology", "高科": "high technology",
    "高新": "high technology", "新材料": "new material", "材料": "material", "锂业": "lithium",
    "鋰業": "lithium", "锂能": "lithium energy", "锂电": "lithium battery",
    "锂电池": "lithium battery", "锂": "lithium", "鋰": "lithium", "钴业": "cobalt",
    "鈷業": "cobalt", "钴": "cobalt", "镍业": "nickel", "镍": "nickel", "锰业": "manganese",
    "钼业": "molybdenum", "鉬業": "molybdenum", "钨业": "tungsten", "鎢業": "tungsten",
    "铜业": "copper", "銅業": "copper", "铝业": "aluminum", "鋁業": "aluminum", "锌业": "zinc",
    "钢铁": "steel", "鋼鐵": "steel", "矿业": "mining", "礦業": "mining", "矿产": "mineral",
    "有色金属": "nonferrous metal", "有色金屬": "nonferrous metal", "有色": "nonferrous",
    "金属": "metal", "金屬": "metal", "稀土": "rare earth", "石墨": "graphite", "硅业": "silicon",
    "电池": "battery", "電池": "battery", "储能": "energy storage", "儲能": "energy storage",
    "电子": "electronic", "電子": "electronic", "电气": "electric", "电力": "power",
    "電力": "power", "动力": "power", "動力": "power", "汽车": "auto", "汽車": "auto",
    "化工": "chemical", "化学": "chemical", "化學": "chemical", "实业": "industry",
    "實業": "industry", "工业": "industry", "工業": "industry", "产业": "industry",
    "產業": "industry", "控股": "holding", "集团": "group", "集團": "group",
    "国际": "international", "國際": "international", "资源": "resource", "資源": "resource",
    "循环": "recycling", "再生": "recycling", "环保": "environmental", "投资": "investment",
    "发展": "development", "贸易": "trading", "进出口": "import export", "制造": "manufacturing",
    "製造": "manufacturing", "精密": "precision", "特种": "special", "机械": "machinery",
    "设备": "equipment", "中国": "china", "中國": "china", "纳米": "nano",
    "半导体": "semiconductor", "冶炼": "smelting", "光伏": "solar", "太阳能": "solar",
    # Japanese
    "自動車": "motor", "鉱山": "mining", "鉱業": "mining", "商事": "trading", "エナジー": "energy",
    "エネルギー": "energy", "バッテリー": "battery", "マテリアルズ": "material",
    "マテリアル": "material", "ケミカル": "chemical", "モーター": "motor",
    "ホールディングス": "holding", "グループ": "group", "テクノロジーズ": "technology",
    "テクノロジー": "technology", "ソリューションズ": "solution", "ソリューション": "solution",
    "エレクトロニクス": "electronic", "インターナショナル": "international",
    "コーポレーション": "corporation", "カンパニー": "company", "ジャパン": "japan",
    "アメリカ": "america",
    # Korean
    "에너지": "energy", "솔루션": "solution", "배터리": "battery", "머티리얼즈": "material",
    "머티리얼": "material", "케미칼": "chemical", "케미컬": "chemical", "화학": "chemical",
    "전자": "electronic", "자동차": "motor", "모터스": "motor", "이노베이션": "innovation",
    "홀딩스": "holding", "그룹": "group", "퓨처": "future", "테크놀로지": "technology",
    "소재": "material", "전지": "battery", "인터내셔널": "international", "코리아": "korea",
    "아메리카": "america", "글로벌": "global", "제철": "steel", "철강": "steel",
}
# fmt: on

# Administrative suffixes written after a place in Chinese names ("深圳市", "浙江省").
CJK_PLACE_SUFFIXES = frozenset("省市")
