"""`curate` command line: corpus, report, inspect, compare and the helper tools."""

from __future__ import annotations

import argparse
import os
import sys

# Subcommands run by another module's main(argv) -> int, with their help line.
DELEGATED = {
    "report": "build report.html and report.json for a curated folder",
    "inspect": "print matching documents of a curated folder",
    "compare": "what changed between two curated folders",
    "train-quality": "train a fastText quality classifier",
    "decontam-index": "index benchmark files for decontamination",
    "tokenize": "turn curated shards into token shards",
    "score": "perplexity and bits per character of each document under a trained model",
}


def _delegate(command: str, argv: list[str]) -> int:
    """Run a subcommand of DELEGATED; its module is imported only now, so `curate --help`
    loads neither pyarrow, matplotlib nor torch."""
    if command == "report":
        from curate.report.build import main
    elif command == "inspect":
        from curate.report.inspect import main
    elif command == "compare":
        from curate.report.compare import main
    elif command == "train-quality":
        from curate.stages.quality_model import main
    elif command == "decontam-index":
        from curate.stages.decontam import main_index as main
    elif command == "tokenize":
        from train.token_shards import main
    elif command == "score":
        from train.score_shards import main
    else:
        raise ValueError(f"no subcommand {command!r} in DELEGATED")
    return int(main(argv) or 0)


class _Parser(argparse.ArgumentParser):
    """A usage mistake is one line naming it (exit 2), not a usage block before it."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


_INPUT_HELP = (
    "input files, folders or globs, local or URIs (s3://, gs://, hdfs://, file://): JSON Lines "
    "(.jsonl/.json/.ndjson), .parquet, .txt, WARC/WET (.warc, .warc.wet), each plain or .gz/.zst/.bz2/.xz"
)
_STAGES_HELP = (
    "run only these stages, in pipeline order (extract, for HTML rows, and normalize always run): "
    "extract,normalize,urlfilter,langid,decontam,pii,quality,perplexity,dedup"
)
_BENCHMARKS_HELP = "benchmark files (JSONL/Parquet) to keep out of the corpus: turns on the decontam stage"
_INDEX_HELP = "an index from `curate decontam-index`: turns on the decontam stage"


def _corpus_parser(sub) -> None:
    p = sub.add_parser("corpus", help="curate raw text into shards, manifest and report")
    p.add_argument("--lang", required=True, help="target language code (ko, ja, en, fr, ...)")
    p.add_argument("--input", nargs="+", required=True, metavar="PATH", help=_INPUT_HELP)
    p.add_argument("--output", required=True, metavar="DIR", help="output folder or URI")
    p.add_argument("--recipe", metavar="FILE", help="recipe YAML (default pipelines/recipes/LANG.yaml)")
    p.add_argument("--stages", metavar="a,b,c", help=_STAGES_HELP)
    p.add_argument("--workers", type=_positive, metavar="N", help="parallel stage workers (default: all CPUs)")
    p.add_argument("--langid-model", metavar="PATH", help="fastText model (lid.176.bin, GlotLID, ...)")
    p.add_argument("--benchmarks", nargs="+", metavar="PATH", help=_BENCHMARKS_HELP)
    p.add_argument("--decontam-index", metavar="INDEX", help=_INDEX_HELP)
    p.add_argument("--batch-size", type=_positive, default=1024, help="documents per stage batch")
    p.add_argument("--shard-rows", type=_positive, default=200_000, help="rows per output shard")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {n}")
    return n


def _run_corpus(args) -> int:
    from curate.io.readers import InputError
    from curate.recipe import RecipeError
    from pipelines.corpus import run_corpus

    stages = [s.strip() for s in args.stages.split(",") if s.strip()] if args.stages else None
    try:
        manifest = run_corpus(
            args.input,
            args.output,
            args.lang,
            recipe_file=args.recipe,
            stages=stages,
            workers=args.workers,
            langid_model=args.langid_model,
            batch_size=args.batch_size,
            shard_rows=args.shard_rows,
            progress=not args.no_progress,
            benchmarks=args.benchmarks,
            decontam_index=args.decontam_index,
        )
    except (InputError, RecipeError, FileNotFoundError) as exc:
        print(f"curate corpus: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, TypeError) as exc:  # a setting of the wrong type met while running
        if os.environ.get("CURATE_DEBUG"):
            raise
        print(f"curate corpus: error: {type(exc).__name__}: {exc} (CURATE_DEBUG=1 shows where)", file=sys.stderr)
        return 2
    counts = "  ".join(f"{kind} {manifest['counts'][kind]}" for kind in ("read", "kept", "rejected", "quarantined"))
    print(f"{counts}  -> {args.output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _Parser(prog="curate", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _corpus_parser(sub)
    for name, help_text in DELEGATED.items():
        sub.add_parser(name, help=help_text, add_help=False)
    if argv and argv[0] in DELEGATED:
        return _delegate(argv[0], argv[1:])
    args = parser.parse_args(argv)
    if args.command == "corpus":
        return _run_corpus(args)
    parser.print_help()
    return 1


if __name__ == "__main__":
    sys.exit(main())
