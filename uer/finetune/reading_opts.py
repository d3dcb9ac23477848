def reading_opts(parser):
    """Options of run_cmrc.py and its inference (kept apart from reading.py so that --help loads no torch)."""
    parser.add_argument("--doc_stride", type=int, default=128, help="Context tokens between window starts.")
    parser.add_argument("--max_answer_length", type=int, default=64, help="Longest answer, in tokens.")
