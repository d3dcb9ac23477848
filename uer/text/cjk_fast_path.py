"""Exact shortcut for text made mostly of CJK ideographs and punctuation.

In Google BERT's tokenizer a CJK ideograph or a punctuation mark always becomes exactly one token (itself, or
[UNK]), whitespace is dropped, and each of them ends the word before it. So a line can be cut into those
"boundary" characters, looked up directly, and the runs of other characters between them, which are tokenized
by the full pipeline on their own with the same result as in context. Characters that lower-casing or accent
stripping would change (e.g. CJK compatibility ideographs, which NFD maps to other ideographs) are left to the
full pipeline.
"""
import re
import unicodedata

from uer.text.unicode_chars import CJK_UNIFIED, is_control, is_punctuation, is_whitespace

WHITESPACE = -1


def _ranges_class(codepoints):
    parts, cps = [], sorted(codepoints)
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\U{cps[i]:08x}" if i == j else f"\\U{cps[i]:08x}-\\U{cps[j]:08x}")
        i = j + 1
    return "".join(parts)


class BoundaryChars:
    def __init__(self, w2i, unk_id, lower):
        table = {}
        for lo, hi in CJK_UNIFIED:
            for cp in range(lo, hi + 1):
                ch = chr(cp)
                table[ch] = w2i.get(ch, unk_id)
        for cp in range(1, 0x10000):
            ch = chr(cp)
            if cp == 0xFFFD or is_control(ch) or ch in table:
                continue
            if is_whitespace(ch):
                table[ch] = WHITESPACE
            elif is_punctuation(ch) and (not lower or (ch.lower() == ch and unicodedata.normalize("NFD", ch) == ch)):
                table[ch] = w2i.get(ch, unk_id)
        self.table = table
        self.other = re.compile("[^" + _ranges_class(ord(c) for c in table) + "]+")

    def split(self, text, runs):
        """Ids for boundary characters, -1 for whitespace, -(k + 2) for runs[k] (appended here)."""
        table = self.table
        out, last = [], 0
        for m in self.other.finditer(text):
            out.extend([table[c] for c in text[last:m.start()]])
            out.append(-(len(runs) + 2))
            runs.append(m.group())
            last = m.end()
        out.extend([table[c] for c in text[last:]])
        return out

    def encode_batch_offsets(self, texts, encode_runs_offsets):
        """(ids, start offsets, continues-a-word flags) per text; runs give theirs through encode_runs_offsets."""
        runs, result = [], []
        split = [self.split(t, runs) for t in texts]
        encoded = encode_runs_offsets(runs) if runs else []
        for text, ids in zip(texts, split):
            ids_out, offsets, continued = [], [], []
            at = 0
            for i in ids:
                if i >= 0:
                    ids_out.append(i)
                    offsets.append(at)
                    continued.append(False)
                    at += 1
                elif i == WHITESPACE:
                    at += 1
                else:
                    run_ids, run_offsets, run_continued = encoded[-i - 2]
                    ids_out.extend(run_ids)
                    offsets.extend(at + o for o in run_offsets)
                    continued.extend(run_continued)
                    at += len(runs[-i - 2])
            result.append((ids_out, offsets, continued))
        return result

    def encode_batch(self, texts, encode_runs):
        runs = []
        split = [self.split(t, runs) for t in texts]
        run_ids = encode_runs(runs) if runs else []
        result = []
        for ids in split:
            if not runs or min(ids, default=0) >= WHITESPACE:
                result.append([i for i in ids if i >= 0])
                continue
            line = []
            for i in ids:
                if i >= 0:
                    line.append(i)
                elif i != WHITESPACE:
                    line.extend(run_ids[-i - 2])
            result.append(line)
        return result
