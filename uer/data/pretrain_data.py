"""Batches for pretrain.py from a dataset.pt: padded to the longest instance of the batch, masked on the fly
when the dataset was made with --dynamic_masking.

Batch k of epoch e holds instances order_e[k*G : (k+1)*G] with G = batch_size * world_size, and rank r takes
its r-th slice of batch_size. Dynamic masks are drawn from a generator keyed by (seed, epoch, instance), so what
the model sees does not depend on how many processes share the work.
"""
import numpy as np
import torch

from uer.data.dataset_io import DatasetFile
from uer.core.errors import UserInputError
from uer.data.targets import str2data
from uer.data.instances import assemble, assemble_word_starts, layout_positions
from uer.data.masking import mask_matrix
from uer.data.llm_data import TARGET_FLAG, decoder_batch, documents_of, needs_decoder_batch


def assembled_flags(flags, positions):
    """[n, width] True where the token laid out there is flagged predicted (False past the row's end)."""
    index = positions[0]
    from_store = index >= 0
    out = np.zeros(index.shape, dtype=bool)
    out[from_store] = (np.asarray(flags)[index[from_store]] & TARGET_FLAG) != 0
    return out


HEADER_TYPES = {"format_version": int, "target": str, "seq_length": int, "instances": int, "vocab_size": int,
                "vocab_fingerprint": str, "dynamic_masking": bool, "static_masking": bool, "span_masking": bool,
                "seed": int, "cls_id": int, "sep_id": int, "mask_id": int, "special_ids": list}
INSTANCE_ARRAYS = ("a_start", "a_len", "b_start", "b_len", "label")


def validate(file):
    """Refuse a dataset whose header or arrays this version cannot train on (one line, naming the file)."""
    h, path = file.header, file.path
    bad = [k for k, t in HEADER_TYPES.items() if type(h.get(k)) is not t]
    if bad or h["format_version"] != 1 or h["target"] not in str2data:
        raise UserInputError(f"{path}: dataset header lacks or has unexpected {', '.join(bad) or 'format/target'}; "
                             "re-create it with this version's preprocess.py")
    needed = INSTANCE_ARRAYS + (("mask_count", "mask_pos", "mask_tok") if h["static_masking"] else ()) + \
        (("word_start",) if h.get("whole_word_masking") and h["dynamic_masking"] else ()) + \
        (("sent_start",) if str2data[h["target"]].sentence_starts else ())
    missing = [a for a in needed + ("tokens",) if a not in file.arrays]
    wrong = [a for a in INSTANCE_ARRAYS if a in file.arrays and len(file.arrays[a]) != h["instances"]]
    if missing or wrong:
        raise UserInputError(f"{path}: dataset arrays {', '.join(missing + wrong)} are missing or of the wrong "
                             "length; re-create it with preprocess.py")
    tokens = len(file.arrays["tokens"])
    for flags, what in (("word_start", "word"), ("sent_start", "sentence")):
        if flags in needed and len(file.arrays[flags]) != tokens:
            raise UserInputError(f"{path}: dataset {what} boundaries do not match its tokens; re-create it")
    for start, length in (("a_start", "a_len"), ("b_start", "b_len")):
        lo, n = np.asarray(file.arrays[start], np.int64), np.asarray(file.arrays[length], np.int64)
        if len(lo) and (lo.min() < 0 or n.min() < 0 or (lo + n).max() > tokens):
            raise UserInputError(f"{path}: dataset instances point outside its token array; re-create it")
    check_decoder_arrays(file)
    if h["static_masking"]:
        count, pos, tok = (np.asarray(file.arrays[a], np.int64) for a in ("mask_count", "mask_pos", "mask_tok"))
        if (len(count) and count.min() < 0) or count.sum() != len(pos) or len(pos) != len(tok) or \
                (len(pos) and (pos.max() >= h["seq_length"] or tok.max() >= h["vocab_size"] or tok.min() < 0)):
            raise UserInputError(f"{path}: dataset masks are inconsistent; re-create it with preprocess.py")


def check_decoder_arrays(file):
    """The per-token flags (llm_sft, chat) and the packed rows' pieces (--packing) agree with the instances."""
    h, path, arrays = file.header, file.path, file.arrays
    if h.get("token_flags") and len(arrays.get("token_flags", ())) != len(arrays["tokens"]):
        raise UserInputError(f"{path}: dataset token flags are missing or do not match its tokens; re-create it")
    if h.get("packing"):
        if "piece_count" not in arrays or "piece_len" not in arrays:
            raise UserInputError(f"{path}: a packed dataset without its pieces; re-create it with preprocess.py")
        count, lens = np.asarray(arrays["piece_count"], np.int64), np.asarray(arrays["piece_len"], np.int64)
        if len(count) != h["instances"] or count.sum() != len(lens) or \
                lens.sum() != np.asarray(arrays["a_len"], np.int64).sum():
            raise UserInputError(f"{path}: the packed rows' pieces do not match its instances; re-create it")


class PretrainDataset:
    def __init__(self, path):
        self.file = DatasetFile(path)
        validate(self.file)
        self.header = self.file.header
        self.arrays = self.file.arrays
        self.data = str2data[self.header["target"]]
        self.span = None
        self.whole_words = False
        self.seed = self.header["seed"]
        self.start_id = None  # the decoder's first input of an encoder-decoder model (None: [CLS])
        if self.header.get("packing"):
            self.piece_offsets = np.concatenate([[0], np.cumsum(self.arrays["piece_count"], dtype=np.int64)])
        if self.header["static_masking"]:
            self.mask_offsets = np.concatenate([[0], np.cumsum(self.arrays["mask_count"], dtype=np.int64)])

    def __len__(self):
        return self.header["instances"]

    def decoder_start(self, cls_id):
        return cls_id if self.start_id is None else self.start_id

    def check(self, target, vocab, span_masking=False, span=(0.2, 10), whole_word_masking=False):
        h, path = self.header, self.file.path
        trains = self.data.model_target or h["target"]
        if trains != target:
            which = f", which trains the {trains} target," if trains != h["target"] else ","
            raise UserInputError(f"{path} was made for --target {h['target']}{which} but pretrain.py was asked for "
                                 f"--target {target}; run preprocess.py with --target {target}")
        if h["vocab_size"] != len(vocab) or h["vocab_fingerprint"] != vocab.fingerprint:
            raise UserInputError(f"{path} was made with another vocabulary ({h['vocab_source']}, {h['vocab_size']} "
                                 f"tokens) than {vocab.source} ({len(vocab)} tokens); use the same --vocab_path "
                                 "or --spm_model_path for preprocess.py and pretrain.py")
        if span_masking and h["static_masking"]:
            raise UserInputError(f"{path} was masked at preprocessing (no --dynamic_masking); pass --span_masking "
                                 "to preprocess.py instead, or preprocess with --dynamic_masking")
        whole_words = bool(h.get("whole_word_masking"))
        if whole_word_masking and not whole_words:
            how = "--dynamic_masking --whole_word_masking" if h["dynamic_masking"] else "--whole_word_masking"
            raise UserInputError(f"{path} was made without --whole_word_masking, so it has no word boundaries; "
                                 f"run preprocess.py with {how}")
        if whole_words and span_masking:
            raise UserInputError(f"{path} was made with --whole_word_masking, which excludes --span_masking")
        if h["dynamic_masking"] and (span_masking or h["span_masking"]):
            self.span = span if span_masking else (h["span_geo_prob"], h["span_max_length"])
        self.whole_words = whole_words and h["dynamic_masking"]

    def instances(self, indices):
        return {k: np.asarray(self.arrays[k][indices]) for k in ("a_start", "a_len", "b_start", "b_len", "label")}

    def batch(self, indices, epoch=0):
        """(src, tgt dict, seg) as numpy int64 arrays for instance indices."""
        h = self.header
        inst = self.instances(indices)
        if self.data.batch_of:
            return self.data.batch_of(self, inst, indices, epoch)
        positions = layout_positions(inst, self.data.layout)
        ids, seg = assemble(self.arrays["tokens"], inst, self.data.layout, h["cls_id"], h["sep_id"],
                            positions=positions)
        if ids.size and (ids.min() < 0 or ids.max() >= h["vocab_size"]):
            raise UserInputError(f"{self.file.path}: token id {int(ids.max())} outside the vocabulary of "
                                 f"{h['vocab_size']}: the dataset is damaged; re-create it with preprocess.py")
        if needs_decoder_batch(h):
            return self.decoder_rows(indices, inst, ids, seg, positions)
        tgt_mlm = np.zeros_like(ids)
        if h["static_masking"]:
            ids = self.apply_static_masks(indices, ids, tgt_mlm)
        elif h["dynamic_masking"]:
            starts = assemble_word_starts(self.arrays["word_start"], positions) if self.whole_words else None
            ids = self.apply_dynamic_masks(indices, ids, tgt_mlm, epoch, starts)
        return self.data.batch(ids, seg, tgt_mlm, inst["label"].astype(np.int64))

    def decoder_rows(self, indices, inst, ids, seg, positions):
        """Rows of the decoder datasets (llm_data.decoder_batch): documents from the packed pieces, predicted
        tokens from the flags."""
        if self.header.get("packing"):
            indices = np.asarray(indices, np.int64)
            documents = documents_of(np.asarray(self.arrays["piece_count"][indices], np.int64),
                                     self.arrays["piece_len"], self.piece_offsets[indices],
                                     ids.shape[1])
        else:
            documents = seg
        flags = None
        if self.header.get("token_flags"):
            flags = assembled_flags(self.arrays["token_flags"], positions)
        return decoder_batch(ids, documents, flags, bool(self.header.get("packing")))

    def apply_static_masks(self, indices, ids, tgt_mlm):
        masked = ids.copy()
        for row, i in enumerate(indices):
            lo, hi = self.mask_offsets[i], self.mask_offsets[i + 1]
            pos = np.asarray(self.arrays["mask_pos"][lo:hi], dtype=np.int64)
            tgt_mlm[row, pos] = ids[row, pos]
            masked[row, pos] = self.arrays["mask_tok"][lo:hi]
        return masked

    def apply_dynamic_masks(self, indices, ids, tgt_mlm, epoch, starts=None):
        """starts: word-start flags laid out as ids, for whole-word masking."""
        h = self.header
        special = np.asarray(h["special_ids"])
        masked = ids.copy()
        for row, i in enumerate(indices):
            rng = np.random.default_rng([self.seed, epoch, int(i)])
            one = ids[row:row + 1]
            out, chosen = mask_matrix(one, ~np.isin(one, special), rng, h["vocab_size"], h["mask_id"], special,
                                      self.span, None if starts is None else starts[row:row + 1])
            masked[row] = out[0]
            tgt_mlm[row, chosen[0]] = one[0, chosen[0]]
        return masked


def epoch_order(n, seed, epoch, window):
    """Instance order of an epoch: shuffled within consecutive windows of `window` instances."""
    rng = np.random.default_rng([seed, epoch, 7])
    order = np.arange(n)
    window = max(1, window)
    for lo in range(0, n, window):
        order[lo:lo + window] = lo + rng.permutation(min(window, n - lo))
    return order


class BatchLoader:
    """Endless iterator of this rank's batches as torch tensors on `device`."""

    def __init__(self, dataset, batch_size, rank=0, world_size=1, seed=7, buffer_size=25600, device="cpu"):
        self.dataset, self.batch_size, self.rank, self.world_size = dataset, batch_size, rank, world_size
        self.seed, self.buffer_size, self.device = seed, buffer_size, torch.device(device)
        self.global_batch = batch_size * world_size
        self.per_epoch = len(dataset) // self.global_batch
        if self.per_epoch == 0:
            raise UserInputError(f"{dataset.file.path} has {len(dataset)} instances, fewer than one batch of "
                                 f"{self.global_batch} (--batch_size {batch_size} x {world_size} processes)")
        self.position = 0
        self._epoch, self._order = None, None

    def __iter__(self):
        return self

    def __next__(self):
        epoch, k = divmod(self.position, self.per_epoch)
        if self._epoch != epoch:
            self._order, self._epoch = epoch_order(len(self.dataset), self.seed, epoch, self.buffer_size), epoch
        lo = k * self.global_batch + self.rank * self.batch_size
        indices = self._order[lo:lo + self.batch_size]
        self.position += 1
        src, tgt, seg = self.dataset.batch(indices, epoch)
        return self.to_device(src), {k: self.to_device(v) for k, v in tgt.items()}, self.to_device(seg)

    def to_device(self, array):
        t = torch.from_numpy(np.ascontiguousarray(array, dtype=np.int64))
        if self.device.type == "cuda":
            return t.pin_memory().to(self.device, non_blocking=True)
        return t
