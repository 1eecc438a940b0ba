"""read_census: tidy ZCTA tables, data.census.gov ACS data-profile exports, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wergap.data_schemas import InputError, read_census
from wergap.data_schemas import census as census_module
from wergap.data_schemas.census import is_percent_name

# An ACS 5-year DP05 export as data.census.gov writes it: code row, label row, one row
# per ZCTA, margins beside every value, "(X)" where a percent does not apply, a trailing
# comma on every line, and one "-" (too few sample cases) placeholder.
DP05 = """\
GEO_ID,NAME,DP05_0001E,DP05_0001M,DP05_0001PE,DP05_0001PM,DP05_0018E,DP05_0018M,DP05_0018PE,DP05_0018PM,DP05_0037E,DP05_0037M,DP05_0037PE,DP05_0037PM,DP05_0038PE,DP05_0038PM,DP05_0044PE,DP05_0044PM,DP05_0064PE,DP05_0064PM,DP05_0071PE,DP05_0071PM,DP05_0076PE,DP05_0076PM,
"Geography","Geographic Area Name","Estimate!!SEX AND AGE!!Total population","Margin of Error!!SEX AND AGE!!Total population","Percent!!SEX AND AGE!!Total population","Percent Margin of Error!!SEX AND AGE!!Total population","Estimate!!SEX AND AGE!!Total population!!Median age (years)","Margin of Error!!SEX AND AGE!!Total population!!Median age (years)","Percent!!SEX AND AGE!!Total population!!Median age (years)","Percent Margin of Error!!SEX AND AGE!!Total population!!Median age (years)","Estimate!!RACE!!Total population!!One race!!White","Margin of Error!!RACE!!Total population!!One race!!White","Percent!!RACE!!Total population!!One race!!White","Percent Margin of Error!!RACE!!Total population!!One race!!White","Percent!!RACE!!Total population!!One race!!Black or African American","Percent Margin of Error!!RACE!!Total population!!One race!!Black or African American","Percent!!RACE!!Total population!!One race!!Asian","Percent Margin of Error!!RACE!!Total population!!One race!!Asian","Percent!!Race alone or in combination with one or more other races!!Total population!!White","Percent Margin of Error!!Race alone or in combination with one or more other races!!Total population!!White","Percent!!HISPANIC OR LATINO AND RACE!!Total population!!Hispanic or Latino (of any race)","Percent Margin of Error!!HISPANIC OR LATINO AND RACE!!Total population!!Hispanic or Latino (of any race)","Percent!!HISPANIC OR LATINO AND RACE!!Total population!!Not Hispanic or Latino","Percent Margin of Error!!HISPANIC OR LATINO AND RACE!!Total population!!Not Hispanic or Latino",
"860Z200US02134","ZCTA5 02134","24,184","1,422","24,184","(X)","25.6","0.4","(X)","(X)","15,120","1,005","62.5","3.1","8.0","2.2","20.1","2.5","66.0","3.0","12.0","2.1","88.0","2.1",
"860Z200US10027","ZCTA5 10027","59,707","2,231","59,707","(X)","30.1","0.7","(X)","(X)","20,310","1,210","34.0","2.0","34.5","2.4","9.8","1.1","38.2","2.0","28.5","2.3","71.5","2.3",
"860Z200US60623","ZCTA5 60623","85,829","2,540","85,829","(X)","29.9","0.5","(X)","(X)","23,101","1,702","26.9","2.0","31.8","1.8","-","**","28.3","2.0","58.7","2.0","41.3","2.0",
"860Z200US94110","ZCTA5 94110","69,333","1,989","69,333","(X)","35.2","0.6","(X)","(X)","38,020","1,577","54.8","2.1","5.0","0.9","14.9","1.3","58.9","2.2","26.1","1.8","73.9","1.8",
"""

# A DP03 export: income top- and bottom-coded ("250,000+", "2,500-"), "N" and "-" placeholders.
DP03 = """\
GEO_ID,NAME,DP03_0062E,DP03_0062M,DP03_0062PE,DP03_0062PM,DP03_0088E,DP03_0088M,DP03_0128PE,DP03_0128PM
Geography,Geographic Area Name,Estimate!!INCOME AND BENEFITS (IN 2019 INFLATION-ADJUSTED DOLLARS)!!Total households!!Median household income (dollars),Margin of Error!!INCOME AND BENEFITS (IN 2019 INFLATION-ADJUSTED DOLLARS)!!Total households!!Median household income (dollars),Percent!!INCOME AND BENEFITS (IN 2019 INFLATION-ADJUSTED DOLLARS)!!Total households!!Median household income (dollars),Percent Margin of Error!!INCOME AND BENEFITS (IN 2019 INFLATION-ADJUSTED DOLLARS)!!Total households!!Median household income (dollars),Estimate!!INCOME AND BENEFITS (IN 2019 INFLATION-ADJUSTED DOLLARS)!!Per capita income (dollars),Margin of Error!!INCOME AND BENEFITS (IN 2019 INFLATION-ADJUSTED DOLLARS)!!Per capita income (dollars),Percent!!PERCENTAGE OF FAMILIES AND PEOPLE WHOSE INCOME IN THE PAST 12 MONTHS IS BELOW THE POVERTY LEVEL!!All people,Percent Margin of Error!!PERCENTAGE OF FAMILIES AND PEOPLE WHOSE INCOME IN THE PAST 12 MONTHS IS BELOW THE POVERTY LEVEL!!All people
860Z200US02134,ZCTA5 02134,"52,143","6,120",(X),(X),"31,200","2,001",24.1,3.0
860Z200US10027,ZCTA5 10027,"250,000+",***,(X),(X),"40,112","3,310",N,N
860Z200US60623,ZCTA5 60623,-,**,(X),(X),"15,010","1,005",27.9,2.2
860Z200US94110,ZCTA5 94110,"2,500-",***,(X),(X),"70,870","4,100",9.6,1.2
"""


def test_acs_dp05_export_to_shares_and_medians(write):
    census = read_census(write("ACSDP5Y2019.DP05-Data.csv", DP05))
    assert census["zip"].tolist() == ["02134", "10027", "60623", "94110"]
    assert census.columns.tolist() == [
        "zip",
        "median age",
        "race: white (share)",
        "race: black or african american (share)",
        "race: asian (share)",
        "race alone or in combination with one or more other races: white (share)",
        "hispanic or latino and race: hispanic or latino (of any race) (share)",
        "hispanic or latino and race: not hispanic or latino (share)",
    ]
    assert census["median age"].tolist() == [25.6, 30.1, 29.9, 35.2]
    np.testing.assert_allclose(census["race: white (share)"], [0.625, 0.34, 0.269, 0.548])
    asian = census["race: asian (share)"]
    assert np.isnan(asian.iloc[2]) and asian.iloc[0] == pytest.approx(0.201)
    meta = census.attrs["wergap"]
    assert meta["format"] == "acs_data_profile"
    assert meta["rows_read"] == 4
    # "(X)" where a percent does not apply (median age: all four rows), one "-".
    assert meta["placeholders"] == {"sex and age: median age (years) (share)": 4, "race: asian (share)": 1}
    assert meta["units"]["median age"] == "years"
    assert meta["units"]["race: asian (share)"] == "share"
    assert meta["columns_dropped"]["DP05_0001E"].startswith("count estimate")
    assert meta["columns_dropped"]["DP05_0037M"] == "margin of error"
    # The Percent column of "Total population" repeats the count: not a share.
    assert meta["columns_dropped"]["sex and age: total population (share)"] == census_module.UNIVERSE_COUNT
    assert meta["columns_dropped"]["sex and age: median age (years) (share)"] == "no values"
    assert meta["labels"]["median age"] == "DP05_0018E: Estimate!!SEX AND AGE!!Total population!!Median age (years)"
    assert [
        "hispanic or latino and race: hispanic or latino (of any race) (share)",
        "hispanic or latino and race: not hispanic or latino (share)",
    ] in meta["share_groups"]


def test_acs_dp03_coded_and_placeholder_values(write):
    census = read_census(write("dp03.csv", DP03))
    assert census.columns.tolist() == [
        "zip",
        "median household income",
        "per capita income",
        "percentage of families and people whose income in the past 12 months is below the poverty level: "
        "all people (share)",
    ]
    income = census["median household income"]
    assert income.iloc[[0, 1, 3]].tolist() == [52143.0, 250000.0, 2500.0] and np.isnan(income.iloc[2])
    meta = census.attrs["wergap"]
    assert meta["coded"] == {"median household income": 2}
    assert meta["placeholders"]["median household income"] == 1
    assert meta["units"]["median household income"] == "dollars"
    poverty = census.iloc[:, 3]
    np.testing.assert_allclose(poverty.dropna(), [0.241, 0.279, 0.096])


def test_several_tables_are_joined_on_zip(write):
    census = read_census([write("dp05.csv", DP05), write("dp03.csv", DP03)])
    assert len(census) == 4 and census["zip"].is_unique
    assert {"median age", "median household income"} <= set(census.columns)
    assert len(census.attrs["wergap"]["sources"]) == 2
    with pytest.raises(InputError, match="more than one of the census tables"):
        read_census([write("a.csv", DP03), write("b.csv", DP03)])


PERCENT_NAMES = [
    ("whiteP", True),
    ("a15_24P", True),
    ("white_pct", True),
    ("pct_white", True),
    ("percent_white", True),
    ("Percent White", True),
    ("totPopE", False),
    ("white", False),
    ("GEOID_P", False),
    ("P", False),
    ("script", False),
]


@pytest.mark.parametrize(("name", "expected"), PERCENT_NAMES)
def test_percent_name_rule(name, expected):
    assert is_percent_name(name) is expected


def test_tidy_table_zero_pads_zips_and_converts_percent_columns(write):
    path = write("z.csv", "ZCTA,whiteP,white_share,median_income\n2134,62.5,0.625,52000\n501,100,1.0,-\n")
    census = read_census(path)
    assert census["zip"].tolist() == ["02134", "00501"]
    assert census["whiteP"].tolist() == [0.625, 1.0]
    assert census["white_share"].tolist() == [0.625, 1.0]  # no percent in the name: unchanged
    assert np.isnan(census["median_income"].iloc[1])
    meta = census.attrs["wergap"]
    assert meta["percent_columns"] == ["whiteP"]
    assert meta["placeholders"] == {"median_income": 1}
    assert meta["sources"] == [str(path)] and meta["rows_read"] == 2


@pytest.mark.parametrize("alias", ["zip", "zcta", "ZCTA5", "GEOID", "zipcode", "ZIP", "region"])
def test_zip_column_aliases(write, alias):
    census = read_census(write("z.csv", f"{alias},median_age\n02134,30.5\n"))
    assert census.columns.tolist() == ["zip", "median_age"]


def test_tab_separated_and_text_attributes(write):
    census = read_census(
        write("z.tsv", "G_ZCTA\tZCTA\tRUCA1\trurality\nG02134\t02134\t1\tUrban\nG01001\t01001\t4\tRural\n")
    )
    assert census.columns.tolist() == ["zip", "RUCA1", "rurality"]
    assert census["rurality"].dtype == "str" and census["rurality"].tolist() == ["Urban", "Rural"]
    assert census.attrs["wergap"]["columns_dropped"] == {"G_ZCTA": "identifier"}


def test_percent_columns_override(write):
    path = write("z.csv", "zip,whiteP,share_black\n02134,62.5,40\n")
    assert read_census(path, percent_columns=[])["whiteP"].tolist() == [62.5]
    census = read_census(path, percent_columns=["share_black"])
    assert census["share_black"].tolist() == [0.4] and census["whiteP"].tolist() == [62.5]
    with pytest.raises(InputError) as err:
        read_census(path, percent_columns=["blackP"])
    assert err.value.column == "blackP"
    assert "percent_columns names 'blackP'" in str(err.value)


def test_dataframe_source_names_row_position():
    frame = pd.DataFrame({"zip": [2134, 10027], "median_age": ["30.1", "old"]})
    with pytest.raises(InputError) as err:
        read_census(frame)
    assert (err.value.file, err.value.row, err.value.column) == (None, 1, "median_age")
    good = read_census(pd.DataFrame({"zip": [2134, 10027], "median_age": [30.1, 35.0]}))
    assert good["zip"].tolist() == ["02134", "10027"]


PLACEHOLDER_CSV = (
    "zip,median_income\n"
    + "".join(f"{10000 + i:05d},{value}\n" for i, value in enumerate(census_module.PLACEHOLDERS))
    + "99999,1000\n"
)


def test_every_placeholder_is_nan_and_counted(write):
    census = read_census(write("p.csv", PLACEHOLDER_CSV))
    assert census["median_income"].isna().sum() == len(census_module.PLACEHOLDERS)
    assert census.attrs["wergap"]["placeholders"] == {"median_income": len(census_module.PLACEHOLDERS)}


BAD_INPUT = [
    # (file text, message fragment, line, column)
    ("name,median_age\nBoston,30\n", "no ZIP/ZCTA column", None, None),
    ("zip,median_age\n02134,30\n02134,31\n", "ZCTA 02134 appears more than once (first on line 2)", 3, "zip"),
    ("zip,median_age\n02134,30\nabcde,31\n", "expected a 5-digit ZIP/ZCTA code, got 'abcde'", 3, "zip"),
    ("zip,median_age\n02134,30\n,31\n", census_module.MISSING_ZIP, 3, "zip"),
    ("zip,median_age\n02134,30\n10027,thirty\n", "got 'thirty'", 3, "median_age"),
    ("zip,whiteP\n02134,30\n10027,130\n", "expected a value in 0–100, got '130'", 3, "whiteP"),
    ("zip,median_age\n02134,30\n10027,31,extra\n", "expected 2 fields as in the header, found 3", 3, None),
    ("zip,median_age,median_age\n02134,30,30\n", "appears more than once in the header", 1, "median_age"),
    ("zip,median_age\n", census_module.NO_DATA_ROWS, None, None),
    ("zip\n02134\n", "no attribute columns", None, None),
    ("  \n", census_module.EMPTY_CENSUS, None, None),
]


@pytest.mark.parametrize(("text", "fragment", "line", "column"), BAD_INPUT)
def test_bad_input_names_file_line_column(write, text, fragment, line, column):
    path = write("bad.csv", text)
    with pytest.raises(InputError) as err:
        read_census(path)
    assert fragment in str(err.value)
    assert err.value.file == str(path)
    assert (err.value.row, err.value.column) == (line, column)


def test_acs_row_that_is_not_a_zcta(write):
    state = '"0400000US25","Massachusetts",' + ",".join(['"1"'] * 22) + ",\n"
    text = DP05 + state
    with pytest.raises(InputError) as err:
        read_census(write("dp05.csv", text))
    assert "GEO_ID '0400000US25' is not a ZCTA" in str(err.value)
    assert (err.value.row, err.value.column) == (7, "GEO_ID")
    census = read_census(write("dp05b.csv", text), drop_invalid=True)
    assert len(census) == 4
    assert census.attrs["wergap"]["dropped"] == {census_module.DROP_NOT_ZCTA: 1}


def test_drop_invalid_counts_rows_by_reason(write):
    text = "zip,median_age,whiteP\n02134,30,50\n02134,31,50\nabcde,1,1\n,2,2\n10027,x,3\n60623,40,101\n94110,35,20\n"
    census = read_census(write("d.csv", text), drop_invalid=True)
    assert census["zip"].tolist() == ["02134", "94110"]
    assert census.attrs["wergap"]["dropped"] == {
        census_module.DROP_MISSING_ZIP: 1,
        census_module.DROP_BAD_ZIP: 1,
        census_module.DROP_NOT_NUMERIC: 1,
        census_module.DROP_PERCENT_RANGE: 1,
        census_module.DROP_DUPLICATE_ZIP: 1,
    }
    assert census.attrs["wergap"]["rows_read"] == 7


def test_missing_file_and_bad_source(tmp_path):
    with pytest.raises(InputError, match=census_module.NOT_FOUND):
        read_census(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="got int"):
        read_census(42)


REAL_TABLES = [
    # (file, rows, columns that must be there, share columns)
    ("acs2018_zcta_demographics_oeps_DS01.csv", 33120, ["totPopE", "whiteP", "hispP", "disbP"], ["whiteP", "noHSP"]),
    ("acs2018_zcta_economic_oeps_EC03.csv", 33120, ["unempP", "povP", "pciE"], ["povP"]),
    ("ruca_zip_rurality_oeps_BE02.csv", 41164, ["RUCA1", "RUCA2", "rurality"], []),
    ("acs2013_zcta_demographics_choroplethr.csv", 33120, ["percent_white", "median_age"], ["percent_black"]),
    ("census2020_zcta_race_shares.csv", 33774, ["white", "black", "hispanic"], ["white", "asian"]),
    ("zcta_centroids_2023_gazetteer.csv", 33791, ["LAT", "LONG"], []),
]


@pytest.mark.parametrize(("name", "rows", "columns", "shares"), REAL_TABLES)
def test_real_census_tables(shared_data, name, rows, columns, shares):
    census = read_census(shared_data / "zcta" / name)
    assert len(census) == rows and census.attrs["wergap"]["rows_read"] == rows
    assert census["zip"].str.fullmatch(r"\d{5}").all() and census["zip"].is_unique
    assert set(columns) <= set(census.columns)
    for column in shares:
        values = census[column].dropna()
        assert values.between(0, 1).all() and values.max() > 0.5
    assert census.attrs["wergap"]["dropped"] == {}


def test_real_oeps_race_shares_sum_to_one(shared_data):
    census = read_census(shared_data / "zcta" / "acs2018_zcta_demographics_oeps_DS01.csv")
    race = census[["whiteP", "blackP", "amIndP", "asianP", "pacIsP", "otherP"]].dropna()
    assert np.allclose(race.sum(axis=1), 1.0, atol=1e-3)
    raw = pd.read_csv(shared_data / "zcta" / "acs2018_zcta_demographics_oeps_DS01.csv", dtype={"ZCTA": str})
    assert np.allclose(census["whiteP"].to_numpy() * 100, raw["whiteP"].to_numpy(), equal_nan=True)
