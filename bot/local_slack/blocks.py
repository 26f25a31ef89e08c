"""Block Kit checks the fake Slack applies before accepting a message or a view.

Real Slack refuses malformed Block Kit with `invalid_blocks` (messages) or
`invalid_arguments` (views). slack-sdk validates only its model objects, and our bot
may send plain dicts, so the stub parses every payload with slack-sdk's models (whose
`to_dict()` runs their validators) and adds the limits slack-sdk leaves to the server.
Parsing also drops fields and element types slack-sdk does not know; a payload that
loses something on the way is refused too, since Slack would not accept it either.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
MESSAGE_TEXT_MAX = 40_000
INPUT_MAX_LENGTH = 3000
VIEW_TYPES = ("modal", "home")

_EMPTY: tuple[Any, ...] = (None, "", [], {})


def message_block_errors(blocks: Any) -> list[str]:
    """Reasons Slack would answer `invalid_blocks` for a message's blocks ([] when fine)."""
    if not isinstance(blocks, list):
        return ["blocks must be an array [json-pointer:/blocks]"]
    errors: list[str] = []
    if len(blocks) > MESSAGE_BLOCKS_MAX:
        errors.append(f"no more than {MESSAGE_BLOCKS_MAX} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        errors.extend(_block_errors(block, f"/blocks/{index}"))
    return errors


def view_errors(view: Any, *, expected_type: str | None = None) -> list[str]:
    """Reasons Slack would answer `invalid_arguments` for a view ([] when fine)."""
    if not isinstance(view, dict):
        return ["[ERROR] view must be a JSON object [json-pointer:/view]"]
    view_type = view.get("type")
    if view_type not in VIEW_TYPES:
        return [f"[ERROR] type must be one of {', '.join(VIEW_TYPES)} [json-pointer:/view/type]"]
    if expected_type is not None and view_type != expected_type:
        return [f"[ERROR] type must be {expected_type} [json-pointer:/view/type]"]
    errors = [f"[ERROR] {message}" for message in _view_model_errors(view)]
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        errors.append("[ERROR] blocks must contain at least one item [json-pointer:/view/blocks]")
        return errors
    if len(blocks) > VIEW_BLOCKS_MAX:
        errors.append(f"[ERROR] no more than {VIEW_BLOCKS_MAX} items allowed [json-pointer:/view/blocks]")
    for index, block in enumerate(blocks):
        errors.extend(f"[ERROR] {e}" for e in _block_errors(block, f"/view/blocks/{index}"))
    if view_type == "modal":
        errors.extend(f"[ERROR] {e}" for e in _modal_structure_errors(view))
    return errors


def _view_model_errors(view: dict[str, Any]) -> list[str]:
    """slack-sdk's own View checks (title/submit/close lengths, private_metadata, …)."""
    shell = {key: value for key, value in view.items() if key != "blocks"}
    shell["blocks"] = [{"type": "divider"}]
    try:
        View(**shell).to_dict()
    except (SlackObjectFormationError, TypeError, ValueError, AttributeError, KeyError) as error:
        return [f"{error} [json-pointer:/view]"]
    return []


def _modal_structure_errors(view: dict[str, Any]) -> list[str]:
    """Modal rules Slack enforces: a title, and a submit button when there are inputs."""
    errors = []
    if not view.get("title"):
        errors.append("title is required for modals [json-pointer:/view/title]")
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks", []))
    if has_input and not view.get("submit"):
        errors.append("submit is required when an input block is present [json-pointer:/view/submit]")
    return errors


def _block_errors(block: Any, pointer: str) -> list[str]:
    """Errors for one block: parse, slack-sdk validation, lost fields, server-only limits."""
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return [f"block must be an object with a type [json-pointer:{pointer}]"]
    try:
        parsed = Block.parse(block)
        if parsed is None:
            return [f"unsupported type: {block['type']} [json-pointer:{pointer}/type]"]
        rendered = parsed.to_dict()
    except (SlackObjectFormationError, TypeError, ValueError, AttributeError, KeyError) as error:
        return [f"{error} [json-pointer:{pointer}]"]
    return _lost_parts(block, rendered, pointer) + _input_length_errors(block, pointer)


def _lost_parts(sent: Any, parsed: Any, pointer: str) -> list[str]:
    """Where slack-sdk dropped or reshaped what was sent: unknown fields or types."""
    if isinstance(sent, dict):
        if not isinstance(parsed, dict):
            return [f"expected {type(parsed).__name__}, got object [json-pointer:{pointer}]"]
        errors: list[str] = []
        for key, value in sent.items():
            if value in _EMPTY:
                continue
            if key not in parsed:
                errors.append(f"unsupported field: {key} [json-pointer:{pointer}/{key}]")
            else:
                errors.extend(_lost_parts(value, parsed[key], f"{pointer}/{key}"))
        return errors
    if isinstance(sent, list):
        if not isinstance(parsed, list) or len(parsed) != len(sent):
            return [f"invalid array [json-pointer:{pointer}]"]
        errors = []
        for index, (item, parsed_item) in enumerate(zip(sent, parsed, strict=True)):
            if parsed_item is None:
                kind = item.get("type") if isinstance(item, dict) else type(item).__name__
                errors.append(f"unsupported type: {kind} [json-pointer:{pointer}/{index}]")
            else:
                errors.extend(_lost_parts(item, parsed_item, f"{pointer}/{index}"))
        return errors
    if isinstance(parsed, (dict, list)):
        return [f"expected object, got {type(sent).__name__} [json-pointer:{pointer}]"]
    return []


def _input_length_errors(node: Any, pointer: str) -> list[str]:
    """plain_text_input min/max_length above 3000, which slack-sdk does not check."""
    if isinstance(node, list):
        return [e for index, item in enumerate(node) for e in _input_length_errors(item, f"{pointer}/{index}")]
    if not isinstance(node, dict):
        return []
    errors = []
    if node.get("type") == "plain_text_input":
        for key in ("max_length", "min_length"):
            value = node.get(key)
            if isinstance(value, int) and value > INPUT_MAX_LENGTH:
                errors.append(f"must be less than or equal to {INPUT_MAX_LENGTH} [json-pointer:{pointer}/{key}]")
    for key, value in node.items():
        if isinstance(value, (dict, list)):
            errors.extend(_input_length_errors(value, f"{pointer}/{key}"))
    return errors
