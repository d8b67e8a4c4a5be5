"""The loading commands of `civicstat`: init, ingest, pull and quarantine.

civicstat.cli.main calls `register(subparsers)`; each handler returns the exit status. Input that
cannot be used at all raises sources.base.InputError (or city.CityConfigError), which the main
command prints on one line and turns into exit status 2.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from civicstat.core.city import load_city
from civicstat.core.errors import store_busy
from civicstat.ingest.sources.base import InputError

PROGRESS_MIN_BYTES = 10_000_000  # smaller files load in a moment: no bar


def register(subparsers) -> None:
    """Add init, ingest, pull and quarantine to the `civicstat` command."""
    init = subparsers.add_parser("init", help="create a city folder (city.toml + boundaries)")
    init.add_argument("dir", type=Path, help="city folder to create")
    init.add_argument("--name", required=True, help="the city's name, as the dashboard shows it")
    init.add_argument("--timezone", required=True, help="IANA time zone, e.g. America/New_York")
    init.add_argument("--boundaries", type=Path,
                      help="district boundary file (GeoJSON, shapefile, GeoPackage...); without "
                      "one, districts are the export's own district column as it names them")
    init.add_argument("--district-key",
                      help="the boundary property that names each district (with --boundaries)")
    init.add_argument("--crs", help="the boundary file's CRS when it declares none (EPSG:2249)")
    init.add_argument("--population-key", help="the boundary property holding the population")
    init.add_argument("--force", action="store_true", help="overwrite an existing city.toml")
    init.set_defaults(handler=cmd_init)

    ingest = subparsers.add_parser("ingest", help="load export files into a city and publish")
    ingest.add_argument("dir", type=Path, help="city folder")
    ingest.add_argument("files", nargs="+", type=Path, metavar="FILE", help="export files")
    how = ingest.add_mutually_exclusive_group(required=True)
    how.add_argument("--source", metavar="FORMAT",
                     help="export format: nyc, boston, sf, chicago, la, open311")
    how.add_argument("--mapping", type=Path, metavar="MAPPING.toml",
                     help="a mapping file describing any other CSV (docs/mapping-example.toml)")
    _output_options(ingest)
    ingest.set_defaults(handler=cmd_ingest)

    pull = subparsers.add_parser(
        "pull", help="load requests from an Open311 endpoint or an open-data portal (Socrata, "
        "ArcGIS, CKAN)")
    pull.add_argument("dir", type=Path, help="city folder")
    pull.add_argument("url", nargs="?",
                      help="an Open311 endpoint, e.g. https://host/open311/v2/requests.json")
    portal = pull.add_mutually_exclusive_group()
    portal.add_argument("--socrata", metavar="URL", help="a Socrata dataset: .../resource/ID.json")
    portal.add_argument("--arcgis", metavar="URL", help="an ArcGIS layer: .../FeatureServer/N")
    portal.add_argument("--ckan", metavar="URL",
                        help="a CKAN DataStore: .../api/3/action/datastore_search?resource_id=ID")
    how = pull.add_mutually_exclusive_group()
    how.add_argument("--mapping", type=Path, metavar="MAPPING.toml",
                     help="portals: the mapping file, its columns the API's field names")
    how.add_argument("--source", metavar="FORMAT",
                     help="portals: a preset instead of a mapping (socrata: nyc, chicago, sf, la; "
                     "ckan: boston)")
    pull.add_argument("--since", type=_date,
                      help="Open311: first day (default: 90 days ago); portals: nothing updated "
                      "before this day (default: since the newest already loaded)")
    pull.add_argument("--until", type=_date, help="Open311: day after the last one (default: now)")
    pull.add_argument("--full", action="store_true",
                      help="portals: ask for every record again, not only newer ones")
    pull.add_argument("--updated-field", metavar="FIELD",
                      help="portals: the API's name of the updated time (default: the mapping's)")
    pull.add_argument("--page-size", type=int,
                      help="records per page (Open311 500, Socrata 5000, ArcGIS 2000, CKAN 5000)")
    _output_options(pull)
    pull.set_defaults(handler=cmd_pull)

    quarantine = subparsers.add_parser("quarantine", help="export the rejected records as CSV")
    quarantine.add_argument("dir", type=Path, help="city folder")
    quarantine.add_argument("--out", required=True, type=Path, help="CSV file to write")
    quarantine.add_argument("--run", type=int, help="only this ingest run")
    quarantine.set_defaults(handler=cmd_quarantine)


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object with the counts, nothing else")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


# --- init -----------------------------------------------------------------------------------


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def city_toml(name: str, timezone: str, boundary: str | None, key: str | None,
              crs: str | None, population: str | None) -> str:
    lines = [
        "# A CivicStat city folder (made by `civicstat init`). Documented keys: see the README.",
        f"name = {_toml_string(name)}",
        f"timezone = {_toml_string(timezone)}",
        "fiscal_year_start_month = 7",
        "# as_of = 2024-06-30  # the data's as-of date, when it must not come from the data",
        "",
    ]
    if boundary is None:
        lines += [
            "# No boundary file: districts are the export's own district column, as it names",
            "# them, and maps show no district shapes. To add one:",
            "# [[boundaries]]",
            '# layer = "district"',
            '# file = "boundaries/districts.geojson"',
            '# key = "district"',
        ]
    else:
        lines += [
            "[[boundaries]]",
            'layer = "district"',
            f"file = {_toml_string(boundary)}",
            f"key = {_toml_string(key)}",
        ]
    if population and boundary is not None:
        lines.append(f"population = {_toml_string(population)}")
    if crs and boundary is not None:
        lines.append(f"crs = {_toml_string(crs)}")
    lines += [
        "",
        "# Neighbourhoods, where the city has them:",
        "# [[boundaries]]",
        '# layer = "neighborhood"',
        '# file = "boundaries/neighborhoods.geojson"',
        '# key = "name"',
        "",
        "[targets]",
        "# Service-level targets in hours, used as due date when an export has none:",
        "# default_hours = 120",
        "[targets.hours]",
        '# "Pothole" = 72',
        "",
    ]
    return "\n".join(lines)


def cmd_init(args: argparse.Namespace) -> int:
    from civicstat.core.geo import parse_crs, read_boundary

    try:
        ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"unknown time zone {args.timezone!r} (use e.g. America/New_York)") \
            from exc
    root: Path = args.dir
    if (root / "city.toml").exists() and not args.force:
        raise InputError(f"{root} is already a city folder (city.toml exists); use --force "
                         "to replace its city.toml")
    if args.boundaries is None:
        extra = [f for f, v in (("--district-key", args.district_key), ("--crs", args.crs),
                                ("--population-key", args.population_key)) if v]
        if extra:
            raise InputError(f"{', '.join(extra)} describe a boundary file: give --boundaries")
        root.mkdir(parents=True, exist_ok=True)
        text = city_toml(args.name, args.timezone, None, None, None, None)
        tomllib.loads(text)
        (root / "city.toml").write_text(text, encoding="utf-8")
        city = load_city(root)
        print(f"Created {city.root}: {city.name}, no boundary file: districts will be the "
              "export's own district column (mapping: source_district); maps show no district "
              "shapes.")
        print(f"Next: civicstat ingest {root} EXPORT.csv --source FORMAT (or --mapping FILE.toml)")
        return 0
    if not args.district_key:
        raise InputError("--boundaries needs --district-key (the property naming each district)")
    crs = parse_crs(args.crs).to_string() if args.crs else None
    keep = [args.population_key] if args.population_key else []
    areas = read_boundary(args.boundaries, args.district_key, crs, keep)
    target = root / "boundaries" / args.boundaries.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if args.boundaries.resolve() != target.resolve():
        shutil.copyfile(args.boundaries, target)
    text = city_toml(args.name, args.timezone, f"boundaries/{args.boundaries.name}",
                     args.district_key, crs, args.population_key)
    tomllib.loads(text)  # what we write must read back
    (root / "city.toml").write_text(text, encoding="utf-8")
    city = load_city(root)
    print(f"Created {city.root}: {city.name}, {len(areas)} districts from {target.name}.")
    print(f"Next: civicstat ingest {root} EXPORT.csv --source FORMAT (or --mapping FILE.toml)")
    return 0


# --- ingest and pull ------------------------------------------------------------------------


def _progress(args: argparse.Namespace, files: list[Path]):
    if args.json or args.no_progress or not sys.stderr.isatty():
        return None
    if sum(f.stat().st_size for f in files if f.is_file()) < PROGRESS_MIN_BYTES:
        return None
    from civicstat.cli.progress import progress_bar

    return progress_bar("Loading")


def _report(args: argparse.Namespace, summary) -> None:
    if args.json:
        print(json.dumps(summary.counts()))
        return
    rate = summary.read / summary.seconds if summary.seconds else 0
    print(f"Read {summary.read:,} records from {len(summary.files)} file(s) in "
          f"{summary.seconds:.1f} s ({rate:,.0f} records/s): inserted {summary.inserted:,}, "
          f"updated {summary.updated:,}, unchanged {summary.unchanged:,}, "
          f"rejected {summary.rejected:,}.")
    if summary.rejected:
        reasons = ", ".join(f"{r} {n:,}" for r, n in summary.rejected_by_reason.items())
        print(f"Rejected: {reasons}. See them with: civicstat quarantine {args.dir} --out "
              "rejected.csv")
    if summary.flagged:
        flags = ", ".join(f"{f} {n:,}" for f, n in sorted(summary.flagged.items()))
        print(f"Kept but flagged: {flags}.")
    if summary.duplicate_ids:
        print(f"{summary.duplicate_ids:,} records repeat an id an earlier record of the same file "
              "has (the newest version is kept); if the export has no id column, see [id] in "
              "docs/mapping-example.toml.")
    if summary.kept:
        print(f"District assigned to {summary.with_district / summary.kept:.1%} of the records "
              f"kept; created from {summary.created_min:%Y-%m-%d} to "
              f"{summary.created_max:%Y-%m-%d}.")
    if summary.published:
        print(f"Published snapshot {summary.published.get('version', '')} "
              f"({summary.published.get('publish_mode')}: "
              f"{summary.published.get('publish_reason')}).")
    if not summary.changed:
        print("Nothing changed: no ingest run recorded, snapshots not republished.")


def cmd_ingest(args: argparse.Namespace) -> int:
    from civicstat.ingest.pipeline import ingest_files

    city = load_city(args.dir)
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        raise InputError(f"file not found: {', '.join(missing)}")
    if args.mapping:
        from civicstat.ingest.sources.mapping import load_adapter

        adapter = load_adapter(args.mapping)
    else:
        from civicstat.ingest.sources.registry import get_adapter

        adapter = get_adapter(args.source)
    summary = ingest_files(city, args.files, adapter, progress=_progress(args, args.files))
    _report(args, summary)
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from civicstat.ingest.pipeline import ingest_files
    from civicstat.ingest.sources import open311

    portal = next((k for k in ("socrata", "arcgis", "ckan") if getattr(args, k)), None)
    if portal:
        return _pull_portal(args, portal)
    if not args.url:
        raise InputError("pull needs an Open311 URL, or --socrata, --arcgis or --ckan URL")
    if args.mapping or args.source or args.full or args.updated_field:
        raise InputError("--mapping, --source, --full and --updated-field are for --socrata, "
                         "--arcgis and --ckan pulls")
    city = load_city(args.dir)
    until = args.until
    since = args.since or ((until or date.today()) - timedelta(days=90))
    dest = city.root / "pulls" / datetime.now().strftime("%Y%m%dT%H%M%S")
    if not args.json:
        print(f"Pulling requests created from {since} from {args.url} ...", file=sys.stderr)
    files = open311.pull(args.url, since, dest, timezone=city.timezone, until=until,
                         page_size=args.page_size or 500)
    summary = ingest_files(city, files, open311.ADAPTER, progress=_progress(args, files))
    _report(args, summary)
    return 0


def _pull_portal(args: argparse.Namespace, portal: str) -> int:
    """`pull DIR --socrata/--arcgis/--ckan URL`: sources.portals fetches, ingest loads."""
    from civicstat.ingest.pipeline import ingest_files
    from civicstat.ingest.sources import portals

    if args.url or args.until:
        raise InputError(f"--{portal} takes no Open311 URL and no --until")
    city = load_city(args.dir)
    spec = None
    if args.mapping:
        from civicstat.ingest.sources.mapping import load_mapping

        spec = load_mapping(args.mapping)
    url = getattr(args, portal)
    quiet = args.json or args.no_progress or not sys.stderr.isatty()
    if not quiet:
        from civicstat.cli.progress import progress_bar

        print(f"Pulling from {url} ...", file=sys.stderr)
    pulled = portals.pull(city, portal, url, spec=spec, preset=args.source,
                          updated_field=args.updated_field, since=args.since, full=args.full,
                          page_size=args.page_size,
                          progress=None if quiet else progress_bar("Pulling"))
    if not args.json:
        asked = f"updated since {pulled.since:%Y-%m-%d %H:%M:%S}" if pulled.incremental else (
            f"from {pulled.since:%Y-%m-%d}" if pulled.since else "all records")
        print(f"Fetched {pulled.records:,} records ({asked}) in {pulled.pages:,} page(s).",
              file=sys.stderr)
    summary = ingest_files(city, pulled.files, pulled.adapter,
                           progress=_progress(args, pulled.files))
    _report(args, summary)
    return 0


# --- quarantine -----------------------------------------------------------------------------


def cmd_quarantine(args: argparse.Namespace) -> int:
    from civicstat.exports.formats import write_csv  # the one CSV policy: raw lines are hostile

    city = load_city(args.dir)
    if not city.store_path.is_file():
        raise InputError(f"{city.root} has no store yet: nothing was ingested")
    try:
        con = duckdb.connect(str(city.store_path), read_only=True)
    except duckdb.IOException as exc:
        raise store_busy(city.store_path, exc) from exc
    try:
        reader = con.sql(
            "select run_id, file, line, reason, raw from quarantine "
            "where $run is null or run_id = $run order by run_id, file, line",
            params={"run": args.run},
        ).to_arrow_reader()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        count = write_csv(args.out, reader.schema.names, (batch.to_pandas() for batch in reader))
    finally:
        con.close()
    print(f"Wrote {count:,} rejected records to {args.out}")
    return 0
