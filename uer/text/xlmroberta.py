"""--tokenizer xlmroberta (TencentPretrain's name): a sentencepiece model (--spm_model_path) with fairseq's
ids, as transformers' XLMRobertaTokenizer gives them: <s> 0, <pad> 1, </s> 2, <unk> 3, then the model's pieces
(its own <unk>, <s>, </s> left out) from 4, and <mask> last. The toolkit's [CLS], [SEP], [PAD], [UNK] and [MASK]
stand for <s>, </s>, <pad>, <unk> and <mask>; batches are padded with id 0 (<s>, a special token, never a
target) and their padding masked."""
from uer.core.constants import CLS_TOKEN, MASK_TOKEN, PAD_TOKEN, SEP_TOKEN, UNK_TOKEN
from uer.text.vocab import Vocab

FAIRSEQ_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")
ROLES = {CLS_TOKEN: "<s>", SEP_TOKEN: "</s>", PAD_TOKEN: "<pad>", UNK_TOKEN: "<unk>", MASK_TOKEN: "<mask>"}


class XlmRobertaVocab(Vocab):
    def __init__(self, sp_model, source):
        pieces = [sp_model.id_to_piece(i) for i in range(sp_model.get_piece_size())]
        self.i2w = list(FAIRSEQ_SPECIALS) + [p for p in pieces if p not in FAIRSEQ_SPECIALS] + ["<mask>"]
        self.w2i = {}
        for i, w in enumerate(self.i2w):
            self.w2i.setdefault(w, i)
        self.source = source

    def get(self, word, default=None):
        return self.w2i.get(ROLES.get(word, word), default)

    def __contains__(self, word):
        return ROLES.get(word, word) in self.w2i

    @property
    def is_cased(self):
        return True


def load_xlmroberta(spm_path):
    from uer.core.errors import UserInputError
    from uer.text.tokenizers import Tokenizer, load_sp_model
    if not spm_path:
        raise UserInputError("--tokenizer xlmroberta needs --spm_model_path, the model's sentencepiece.bpe.model")
    sp_model = load_sp_model(spm_path)
    vocab = XlmRobertaVocab(sp_model, spm_path)
    return vocab, Tokenizer(vocab, sp_model)
