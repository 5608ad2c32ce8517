"""A tiny Qwen2 chat model built offline for the real-server tests: a 512-token byte-level BPE tokenizer trained on
a few KB of QFT-flavoured text, a ChatML chat template, and a 2-layer, 64-wide ``Qwen2ForCausalLM`` trained for a
couple of hundred CPU steps on chat-formatted examples (about 10 s on two cores). What it writes is nonsense that
looks a little like physics, except for the answers it learnt by heart (one of them a ``<think>...</think>``
reply); it exists so that ``transformers serve`` has a real model to load, tokenize for, generate with and stop
on ``<|im_end|>``. Tokenizer pipeline (NFC, Qwen2's split regex, byte-level) and ChatML match what
``AutoTokenizer`` rebuilds for ``model_type: qwen2``, so the server tokenizes exactly as the training did."""

from __future__ import annotations

import random
from pathlib import Path

IM_START, IM_END, PAD = "<|im_start|>", "<|im_end|>", "<|endoftext|>"
VOCAB_SIZE = 512
MAX_POSITIONS = 512
QWEN2_SPLIT = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SYSTEM = "You are a careful physicist. Answer briefly."
REASONING_QUESTION = "Think first: what is the energy of a free particle?"

# (question, answer) pairs; the corpus for the tokenizer is these plus the notes below.
QA = [
    ("What is the energy of a free particle?", "E = sqrt(p^2 + m^2) in natural units, from p^mu p_mu = m^2."),
    ("What does the Klein-Gordon equation describe?", "A free scalar field: (d^2 + m^2) phi = 0."),
    ("Write the Dirac equation.", "(i gamma^mu d_mu - m) psi = 0, with {gamma^mu, gamma^nu} = 2 g^{mu nu}."),
    (
        "What is the QED vertex factor?",
        "The vertex factor is -i e gamma^mu, one photon and two fermion lines.",
    ),
    ("What is the photon propagator in Feynman gauge?", "-i g_{mu nu} / (k^2 + i epsilon)."),
    ("What is the fermion propagator?", "i (pslash + m) / (p^2 - m^2 + i epsilon)."),
    ("What is the scalar propagator?", "i / (p^2 - m^2 + i epsilon)."),
    ("Define the Mandelstam variable s.", "s = (p1 + p2)^2, the squared centre-of-mass energy."),
    ("What is s + t + u for 2 to 2 scattering?", "s + t + u = m1^2 + m2^2 + m3^2 + m4^2."),
    ("What is the fine-structure constant?", "alpha = e^2 / (4 pi), about 1/137."),
    ("Give the cross section of e+ e- to mu+ mu-.", "sigma = 4 pi alpha^2 / (3 s) at high energy."),
    ("What is the Thomson cross section?", "sigma_T = 8 pi alpha^2 / (3 m^2)."),
    ("What does a loop integral need?", "A regulator: dimensional regularization with d = 4 - 2 epsilon."),
    ("What is the one-loop beta function of QED?", "beta(e) = e^3 / (12 pi^2), so the coupling grows."),
    ("What is asymptotic freedom?", "The QCD coupling falls at high energy because beta is negative."),
    ("What is the Ward identity?", "k_mu M^mu = 0 for an external photon of momentum k."),
    ("What is the LSZ formula for?", "It turns time-ordered correlators into S-matrix elements."),
    ("What is a Feynman diagram?", "A picture of one term of the perturbative expansion of the S-matrix."),
    ("What is the Higgs mechanism?", "A gauge boson eats a Goldstone mode and gets a mass."),
    ("What is the muon decay rate?", "Gamma = G_F^2 m^5 / (192 pi^3) at tree level."),
    ("Trace of two gamma matrices?", "tr(gamma^mu gamma^nu) = 4 g^{mu nu}."),
    (
        "Trace of four gamma matrices?",
        "4 (g^{mu nu} g^{rho sigma} - g^{mu rho} g^{nu sigma} + g^{mu sigma} g^{nu rho}).",
    ),
    ("What is the Compton wavelength?", "lambda = 1 / m in natural units."),
    ("What is a counterterm?", "A term added to the Lagrangian to absorb a divergence."),
    ("What is the anomalous magnetic moment at one loop?", "a = alpha / (2 pi), the Schwinger term."),
    ("Write the QED Lagrangian.", "L = -1/4 F^2 + psibar (i Dslash - m) psi, with D = d + i e A."),
    ("What is a Goldstone boson?", "A massless mode from a broken global symmetry."),
    ("What is the Yukawa potential?", "V(r) = -g^2 exp(-m r) / (4 pi r)."),
    # Learnt by heart, so the server's reasoning parser (Qwen's <think> fallback) has something to split off.
    (REASONING_QUESTION, "<think>p^mu p_mu = m^2, so E^2 = p^2 + m^2.</think>E = sqrt(p^2 + m^2)."),
]

NOTES = """
Quantum field theory treats particles as excitations of fields. A free scalar field of mass m obeys the
Klein-Gordon equation and has the propagator i / (p^2 - m^2 + i epsilon). Spinor fields obey the Dirac equation;
their propagator is i (pslash + m) / (p^2 - m^2 + i epsilon). In quantum electrodynamics the photon couples to
the electron current with strength e, and the vertex factor is -i e gamma^mu. Amplitudes for scattering follow
from Feynman rules: a factor for each vertex, a propagator for each internal line, an integral over each loop
momentum, and external spinors and polarization vectors. The squared amplitude, summed over final spins and
averaged over initial spins, is found with trace identities for gamma matrices. Cross sections follow from the
squared amplitude divided by the flux, integrated over the two-body phase space, which in the centre-of-mass
frame gives d sigma / d Omega = |M|^2 / (64 pi^2 s). Loop diagrams diverge; a regulator such as dimensional
regularization makes them finite, and counterterms absorb the poles in epsilon. The running of the coupling is
set by the beta function. In QED the coupling grows with energy; in QCD it falls, which is asymptotic freedom.
Gauge invariance gives Ward identities; spontaneous symmetry breaking gives Goldstone bosons, or, when the
symmetry is gauged, massive vector bosons through the Higgs mechanism. Decay rates follow from the squared
amplitude and the phase space of the products; the muon decays through the weak interaction with a rate fixed
by the Fermi constant. Answers are given in natural units with hbar = c = 1.
"""


def _examples() -> list[list[dict[str, str]]]:
    """Chat conversations to train on: each question with its answer, with and without a system prompt."""
    conversations = []
    for question, answer in QA:
        turn = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        conversations.append(turn)
        conversations.append([{"role": "system", "content": SYSTEM}, *turn])
    return conversations


def _train_tokenizer():
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    # The pipeline of transformers' Qwen2Tokenizer, which is what loads this tokenizer again (config.json says
    # qwen2): trained any other way, the server would split text differently from the training.
    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[PAD, IM_START, IM_END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    corpus = [NOTES, SYSTEM, *(f"{q}\n{a}" for q, a in QA), "system\nuser\nassistant\n"] * 4
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    return tokenizer


def build_tiny_qwen2(folder: Path, *, steps: int = 200, seed: int = 0) -> Path:
    """Train the tokenizer and the model and ``save_pretrained`` both into ``folder``; returns ``folder``."""
    import torch
    from transformers import GenerationConfig, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_train_tokenizer(),
        bos_token=None,
        eos_token=IM_END,
        pad_token=PAD,
        additional_special_tokens=[IM_START],
        chat_template=CHAT_TEMPLATE,
        model_max_length=MAX_POSITIONS,
    )
    pad_id, eos_id = tokenizer.convert_tokens_to_ids(PAD), tokenizer.convert_tokens_to_ids(IM_END)
    config = Qwen2Config(
        vocab_size=VOCAB_SIZE,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=MAX_POSITIONS,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
    )
    with torch.random.fork_rng():  # seeded, without touching the test process's global RNG
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(config)
        _train(model, _sequences(tokenizer), steps, random.Random(seed), pad_id)
    model.eval()
    model.generation_config = GenerationConfig(
        bos_token_id=None, eos_token_id=eos_id, pad_token_id=pad_id, do_sample=False, max_new_tokens=64
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _sequences(tokenizer) -> list[tuple[list[int], list[int]]]:
    """(input ids, labels) of every training conversation: the prompt is masked, the assistant reply learnt."""
    sequences = []
    for conversation in _examples():
        prompt = tokenizer.apply_chat_template(conversation[:-1], add_generation_prompt=True, tokenize=False)
        reply = conversation[-1]["content"] + IM_END + "\n"
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        reply_ids = tokenizer(reply, add_special_tokens=False)["input_ids"]
        ids = (prompt_ids + reply_ids)[:MAX_POSITIONS]
        labels = ([-100] * len(prompt_ids) + reply_ids)[:MAX_POSITIONS]
        sequences.append((ids, labels))
    return sequences


def _train(model, sequences, steps: int, rng: random.Random, pad_id: int, batch_size: int = 8) -> None:
    """Plain AdamW on one thread (a model this small trains ~10x faster so than on two contended cores)."""
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(steps):
            _step(model, optimizer, rng.sample(sequences, batch_size), pad_id)
    finally:
        torch.set_num_threads(threads)


def _step(model, optimizer, batch: list[tuple[list[int], list[int]]], pad_id: int) -> None:
    import torch

    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.full((len(batch), width), pad_id)
    labels = torch.full((len(batch), width), -100)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (ids, target) in enumerate(batch):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, : len(target)] = torch.tensor(target)
        mask[row, : len(ids)] = 1
    model(input_ids=input_ids, attention_mask=mask, labels=labels).loss.backward()
    optimizer.step()
    optimizer.zero_grad()
