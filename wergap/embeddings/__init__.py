"""Speaker embeddings computed from audio (SpeechBrain's ECAPA-TDNN), below discovery.

The optional ``[embed]`` extra (torch, torchaudio, SpeechBrain, soundfile) is imported only
when audio is embedded. Reading an embeddings table is an input contract and lives in
:mod:`wergap.data_schemas.embeddings`; this floor turns audio into such a table.
"""

from wergap.embeddings.embed import embed_audio, write_embeddings

__all__ = ["embed_audio", "write_embeddings"]
