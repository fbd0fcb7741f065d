"""Legacy LLM adapter shims: the Terma, Hermes, Telos and Engram ``LLMAdapter`` APIs on ``tekton_llm_client``.

Import the shim you need (``from tekton_llm_shims.hermes import LLMAdapter``); this package imports none of
them itself, so importing it has no side effects. ``tekton_llm_shims.llm_adapter_service`` serves the retired
standalone LLM Adapter protocol on top of Rhetor (needs the ``service`` extra).
"""

__version__ = "0.3.0"
