"""Build the map outlines shipped in ``wergap/reports/data/`` from registry packages.

Sources (public domain; see ``wergap/reports/data/SOURCES.md``):

- world countries and cities: Natural Earth 1:110m (``naturalearth_lowres``,
  ``naturalearth_cities``) as shipped in the PyPI wheel ``geopandas==0.14.4``;
- US states: Census cartographic boundary file ``cb_2016_us_state_500k`` as shipped in the
  PyPI wheel ``plotly-geo==1.0.0``.

    pip download geopandas==0.14.4 plotly-geo==1.0.0 --no-deps -d /tmp/wheels
    python scripts/build_outlines.py /tmp/wheels

Outlines are simplified (Douglas–Peucker, topology preserved) and rounded, so the three
files stay a few hundred KB: enough to recognise a state on a report map, not for analysis.
"""

from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import shapely

OUT = Path(__file__).resolve().parents[1] / "wergap" / "reports" / "data"


def extract(wheel: Path, member_prefix: str, folder: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith(member_prefix):
                archive.extract(name, folder)


def write(frame: gpd.GeoDataFrame, name: str, tolerance: float, grid: float) -> None:
    frame = frame.copy()
    if tolerance:
        # islands smaller than about (tolerance * 3)² degrees would simplify to slivers: drop them
        parts = frame.geometry.explode(index_parts=False)
        parts = parts[shapely.area(parts.values) >= (3 * tolerance) ** 2]  # square degrees
        frame = frame.loc[parts.index.unique()]
        frame["geometry"] = parts.groupby(level=0).agg(shapely.union_all).set_crs(frame.crs)
        frame["geometry"] = frame.geometry.simplify(tolerance, preserve_topology=True)
    frame["geometry"] = shapely.set_precision(frame.geometry.values, grid)
    frame = frame[~frame.geometry.is_empty]
    path = OUT / name
    frame.to_file(path, driver="GeoJSON", COORDINATE_PRECISION=3, RFC7946="YES")
    print(f"{path}: {len(frame)} features, {path.stat().st_size / 1024:.0f} KB")


def main(wheels: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        extract(next(wheels.glob("geopandas-0.14.4-*.whl")), "geopandas/datasets/naturalearth", folder)
        extract(next(wheels.glob("plotly_geo-1.0.0-*.whl")), "_plotly_geo/package_data/cb_2016_us_state", folder)
        data = folder / "geopandas" / "datasets"
        countries = gpd.read_file(data / "naturalearth_lowres" / "naturalearth_lowres.shp")
        write(countries[["name", "iso_a3", "geometry"]], "world_countries.geojson", 0.02, 0.001)
        cities = gpd.read_file(data / "naturalearth_cities" / "naturalearth_cities.shp")
        cities["name"] = cities["name"].str.replace(",  ", ", ")
        write(cities[["name", "geometry"]], "world_cities.geojson", 0.0, 0.001)
        states = gpd.read_file(folder / "_plotly_geo" / "package_data" / "cb_2016_us_state_500k.shp")
        states = states.set_crs("EPSG:4269", allow_override=True).to_crs("EPSG:4326")
        write(states[["NAME", "STUSPS", "geometry"]].rename(columns={"NAME": "name", "STUSPS": "code"}), "us_states.geojson", 0.03, 0.001)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
