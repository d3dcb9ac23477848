"""Regenerate the shipped sample corpora (deterministic).

    python3 corpora/generate_samples.py

Writes corpora/book_review.txt (one review per line), corpora/book_review_bert.txt (a sentence per line,
blank line between reviews), corpora/book_review_cls.txt (label<TAB>review) and the fine-tuning sample
datasets/book_review/{train,dev,test,test_nolabel}.tsv (header "label<TAB>text_a"; other reviews) and the NER
sample datasets/ner_sample/ (header "text_a<TAB>label", BIO tags, label2id.json) and the reading-comprehension
sample datasets/cmrc_sample/ (SQuAD-style JSON), a DBQA sample datasets/dbqa_sample/ (qid, label, text_a,
text_b) and a multiple-choice sample datasets/c3_sample/ (C3 JSON), and for the later task scripts
datasets/book_review/few.tsv (64 labelled reviews: prompt classification with few labels),
datasets/review_score/ (regression: label = 5 x the share of positive sentences), datasets/review_aspects/
(multi-label: the ids of the aspects a review speaks of, comma-separated) and datasets/review_pairs/ (SimCSE:
train.tsv sentences, dev/test.tsv pairs scored 1 when both praise or both criticise, else 0; siamese.tsv the
same pairs with integer labels). The reviews are synthetic,
built from phrase templates, so that a tiny model can learn their regularities in a few hundred steps.
"""
import os
import random

SUBJECTS = ["这本书", "这部小说", "作者的文笔", "书中的故事", "这本传记", "这套丛书", "译者的翻译", "书里的插图",
            "这本历史书", "这本诗集", "第二章", "结尾部分", "人物的塑造", "整体的结构"]
POSITIVE = ["非常精彩", "很有意思", "令人感动", "值得一读", "写得很好", "十分细腻", "引人入胜", "让人深思",
            "清新自然", "很有深度"]
NEGATIVE = ["非常无聊", "让人失望", "不值得买", "写得很差", "过于啰嗦", "十分平淡", "逻辑混乱", "看不下去",
            "错字很多", "没有新意"]
OPENERS = ["我觉得", "说实话", "总的来说", "读完以后", "坦白讲", "在我看来", "毫无疑问", "朋友推荐说"]
POS_ENDS = ["推荐给大家。", "我会再读一遍。", "五星好评！", "下次还会买他的书。", "送给朋友了。"]
NEG_ENDS = ["不推荐购买。", "浪费时间。", "一星差评！", "不会再买了。", "已经退货了。"]
EN_POS = ["The story is great.", "I really love this book.", "Highly recommended!", "A wonderful read."]
EN_NEG = ["The plot is boring.", "I do not like this book.", "Not recommended.", "A waste of money."]
CONNECT = ["而且", "但是", "另外", "同时", "不过"]


def sentence(rng, good):
    adj = rng.choice(POSITIVE if good else NEGATIVE)
    s = f"{rng.choice(OPENERS)}，{rng.choice(SUBJECTS)}{adj}"
    if rng.random() < 0.5:
        adj2 = rng.choice(POSITIVE if good else NEGATIVE)
        s += f"，{rng.choice(CONNECT)}{rng.choice(SUBJECTS)}也{adj2}"
    return s + "。"


def review(rng):
    good = rng.random() < 0.5
    sents = [sentence(rng, good) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.3:
        sents.append(rng.choice(EN_POS if good else EN_NEG))
    sents.append(rng.choice(POS_ENDS if good else NEG_ENDS))
    return int(good), sents


def main(n=3000, seed=2020):
    rng = random.Random(seed)
    here = os.path.dirname(os.path.abspath(__file__))
    reviews = [review(rng) for _ in range(n)]
    with open(os.path.join(here, "book_review.txt"), "w", encoding="utf-8") as f:
        f.writelines("".join(s) + "\n" for _, s in reviews)
    with open(os.path.join(here, "book_review_bert.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join("\n".join(s) + "\n" for _, s in reviews))
    with open(os.path.join(here, "book_review_cls.txt"), "w", encoding="utf-8") as f:
        f.writelines(f"{label}\t{''.join(s)}\n" for label, s in reviews)
    write_classification_sample(os.path.join(os.path.dirname(here), "datasets", "book_review"), seed + 1)
    write_ner_sample(os.path.join(os.path.dirname(here), "datasets", "ner_sample"), seed + 2)
    write_reading_sample(os.path.join(os.path.dirname(here), "datasets", "cmrc_sample"), seed + 3)
    write_dbqa_sample(os.path.join(os.path.dirname(here), "datasets", "dbqa_sample"), seed + 4)
    write_c3_sample(os.path.join(os.path.dirname(here), "datasets", "c3_sample"), seed + 5)
    datasets = os.path.join(os.path.dirname(here), "datasets")
    write_few_sample(os.path.join(datasets, "book_review"), seed + 6)
    write_score_sample(os.path.join(datasets, "review_score"), seed + 7)
    write_aspects_sample(os.path.join(datasets, "review_aspects"), seed + 8)
    write_pairs_sample(os.path.join(datasets, "review_pairs"), seed + 9)


PERSONS = ["王明", "李华", "张文", "马克", "黄金", "高山"]
PLACES = ["北京", "南京", "上海", "江西", "山东", "台北"]
ORGS = ["人民出版社", "美术学院", "科学研究院", "电影公司", "中国科学院"]
NER_TEMPLATES = ["{PER}在{LOC}读了这本书。", "{ORG}出版了{PER}的小说。", "我在{LOC}买了{ORG}的书，很有意思。",
                 "{PER}和{PER}都说这本书值得一读。", "这本书写的是{LOC}的历史。", "朋友推荐说{ORG}的书非常精彩。"]


def tagged_sentence(rng):
    """(characters, BIO tags) of a templated sentence with persons, places and organisations."""
    chars, tags = [], []
    template = rng.choice(NER_TEMPLATES)
    pieces = template.replace("{", "|{").replace("}", "}|").split("|")
    for piece in pieces:
        if piece in ("{PER}", "{LOC}", "{ORG}"):
            kind = piece[1:-1]
            name = rng.choice({"PER": PERSONS, "LOC": PLACES, "ORG": ORGS}[kind])
            chars += list(name)
            tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(name) - 1)
        else:
            chars += list(piece)
            tags += ["O"] * len(piece)
    return chars, tags


def write_splits(directory, make_row, sizes, header):
    """train/dev/test.tsv with the given header (rows from make_row(): {column: text}), and test_nolabel.tsv
    (text_a only) for inference."""
    os.makedirs(directory, exist_ok=True)
    for name, n in sizes:
        rows = [make_row() for _ in range(n)]
        splits = [(name, header)] + ([("test_nolabel", ["text_a"])] if name == "test" else [])
        for file_name, columns in splits:
            with open(os.path.join(directory, f"{file_name}.tsv"), "w", encoding="utf-8") as f:
                f.write("\t".join(columns) + "\n")
                f.writelines("\t".join(row[c] for c in columns) + "\n" for row in rows)


def write_ner_sample(directory, seed, sizes=(("train", 400), ("dev", 100), ("test", 100))):
    import json
    rng = random.Random(seed)
    os.makedirs(directory, exist_ok=True)
    labels = ["O"] + [f"{p}-{k}" for k in ("LOC", "PER", "ORG") for p in ("B", "I")]
    with open(os.path.join(directory, "label2id.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(labels)}, f)

    def row():
        chars, tags = tagged_sentence(rng)
        return {"text_a": " ".join(chars), "label": " ".join(tags)}
    write_splits(directory, row, sizes, ["text_a", "label"])


def write_classification_sample(directory, seed, sizes=(("train", 800), ("dev", 200), ("test", 200))):
    rng = random.Random(seed)

    def row():
        label, sentences = review(rng)
        return {"label": str(label), "text_a": "".join(sentences)}
    write_splits(directory, row, sizes, ["label", "text_a"])


def reading_paragraph(rng, k):
    """A SQuAD-style paragraph: reviews around a sentence naming who read the book where, two questions."""
    person, place = rng.choice(PERSONS), rng.choice(PLACES)
    before = "".join(review(rng)[1])
    fact = f"{person}在{place}读了这本书。"
    context = before + fact + "".join(review(rng)[1])
    at = len(before)
    return {"context": context, "qas": [
        {"id": f"Q{k}_1", "question": "谁读了这本书？", "answers": [{"text": person, "answer_start": at}]},
        {"id": f"Q{k}_2", "question": f"{person}在什么地方读了这本书？",
         "answers": [{"text": place, "answer_start": at + len(person) + 1}]}]}


def write_reading_sample(directory, seed, sizes=(("train", 300), ("dev", 60))):
    import json
    rng = random.Random(seed)
    os.makedirs(directory, exist_ok=True)
    for name, n in sizes:
        data = {"version": "sample", "data": [{"paragraphs": [reading_paragraph(rng, f"{name}{k}")]}
                                             for k in range(n)]}
        with open(os.path.join(directory, f"{name}.json"), "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)


def write_dbqa_sample(directory, seed, sizes=(("train", 150), ("dev", 40), ("test", 40))):
    """NLPCC-DBQA style: each question's candidates are the sentences of a paragraph; label 1 for the one that
    answers it."""
    rng = random.Random(seed)
    counter = iter(range(10 ** 6))

    def rows():
        paragraph = reading_paragraph(rng, 0)
        sentences = [x + "。" for x in paragraph["context"].split("。") if x]
        qid = str(next(counter))
        question = paragraph["qas"][int(rng.random() < 0.5)]
        answer = question["answers"][0]["text"]
        return [{"qid": qid, "label": str(int(answer in x and "读了" in x)), "text_a": question["question"],
                 "text_b": x} for x in sentences]

    os.makedirs(directory, exist_ok=True)
    for name, n in sizes:
        with open(os.path.join(directory, f"{name}.tsv"), "w", encoding="utf-8") as f:
            f.write("qid\tlabel\ttext_a\ttext_b\n")
            for _ in range(n):
                f.writelines(f"{r['qid']}\t{r['label']}\t{r['text_a']}\t{r['text_b']}\n" for r in rows())


def write_c3_sample(directory, seed, sizes=(("train", 300), ("dev", 60), ("test", 60))):
    """C3 style JSON: [[context sentences], [{question, choice, answer, id}], id] with up to four choices."""
    import json
    rng = random.Random(seed)
    os.makedirs(directory, exist_ok=True)
    for name, n in sizes:
        items = []
        for k in range(n):
            paragraph = reading_paragraph(rng, k)
            sentences = [x + "。" for x in paragraph["context"].split("。") if x]
            sentences.sort(key=lambda x: "读了这本书" not in x)  # the fact first: short models see it
            questions = []
            for qa, pool in zip(paragraph["qas"], (PERSONS, PLACES)):
                answer = qa["answers"][0]["text"]
                choices = rng.sample([x for x in pool if x != answer], rng.randint(1, 3)) + [answer]
                rng.shuffle(choices)
                questions.append({"question": qa["question"], "choice": choices, "answer": answer,
                                  "id": f"{name}-{k}-{len(questions)}"})
            items.append([sentences, questions, f"{name}-{k}"])
        with open(os.path.join(directory, f"{name}.json"), "w", encoding="utf-8") as f:
            json.dump(items, f, ensure_ascii=False, indent=1)


def write_few_sample(directory, seed, n=64):
    rng = random.Random(seed)
    with open(os.path.join(directory, "few.tsv"), "w", encoding="utf-8") as f:
        f.write("label\ttext_a\n")
        for _ in range(n):
            label, sentences = review(rng)
            f.write(f"{label}\t{''.join(sentences)}\n")


def write_score_sample(directory, seed, sizes=(("train", 800), ("dev", 200), ("test", 200))):
    """Regression: mixed reviews, the label 5 x the share of their sentences that praise."""
    rng = random.Random(seed)

    def row():
        goods = [rng.random() < 0.5 for _ in range(rng.randint(1, 4))]
        text = "".join(sentence(rng, good) for good in goods)
        return {"label": f"{5 * sum(goods) / len(goods):.2f}", "text_a": text}
    write_splits(directory, row, sizes, ["label", "text_a"])


ASPECTS = ["作者的文笔", "译者的翻译", "书里的插图", "人物的塑造"]  # label ids 0..3


def write_aspects_sample(directory, seed, sizes=(("train", 800), ("dev", 200), ("test", 200))):
    """Multi-label: 1 to 3 sentences, each about an aspect or another subject; the label the aspects' ids."""
    rng = random.Random(seed)
    others = [s for s in SUBJECTS if s not in ASPECTS]

    def row():
        subjects = [rng.choice(ASPECTS if rng.random() < 0.6 else others) for _ in range(rng.randint(1, 3))]
        good = rng.random() < 0.5
        text = "".join(f"{rng.choice(OPENERS)}，{s}{rng.choice(POSITIVE if good else NEGATIVE)}。" for s in subjects)
        ids = sorted({ASPECTS.index(s) for s in subjects if s in ASPECTS})
        return {"label": ",".join(map(str, ids)), "text_a": text}
    write_splits(directory, row, sizes, ["label", "text_a"])


def write_pairs_sample(directory, seed, sentences=1000, pairs=(("dev", 200), ("test", 200))):
    """SimCSE: sentences to train on; pairs of sentences, similar (1) when both praise or both criticise."""
    rng = random.Random(seed)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "train.tsv"), "w", encoding="utf-8") as f:
        f.write("text_a\n")
        f.writelines(sentence(rng, rng.random() < 0.5) + "\n" for _ in range(sentences))
    for name, n in pairs:
        rows = []
        for _ in range(n):
            a, b = rng.random() < 0.5, rng.random() < 0.5
            rows.append((int(a == b), sentence(rng, a), sentence(rng, b)))
        with open(os.path.join(directory, f"{name}.tsv"), "w", encoding="utf-8") as f:
            f.write("text_a\ttext_b\tlabel\n")
            f.writelines(f"{x}\t{y}\t{label}.0\n" for label, x, y in rows)
        if name == "test":
            with open(os.path.join(directory, "siamese.tsv"), "w", encoding="utf-8") as f:
                f.write("label\ttext_a\ttext_b\n")
                f.writelines(f"{label}\t{x}\t{y}\n" for label, x, y in rows)


if __name__ == "__main__":
    main()
