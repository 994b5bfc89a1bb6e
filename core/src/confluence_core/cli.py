"""The shape every module entry point shares.

A module's ``cli.py`` declares a Click command decorated with
:func:`module_command`; it gets ``--index`` and ``--verbose``, logging set up,
and the error convention: a :class:`~confluence_core.errors.ConfluenceError`
is printed as one line (``error: <file>: <reason>``) and exits 1; any other
exception is logged with its traceback *and* summarised in one final line,
also exit 1.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar, overload

import click

from . import log as _log
from .errors import ConfluenceError

#: Exit status of a job that failed on bad input or a bug.
EXIT_FAILED = 1


def index_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--index N``: the list entry to run (default: ``AWS_BATCH_JOB_ARRAY_INDEX``)."""
    return click.option(
        "--index", "-i", type=int, default=None,
        help="Entry of the fan-out list to run (default: the entries of array child "
             "$AWS_BATCH_JOB_ARRAY_INDEX, or $CONFLUENCE_ENTRIES).",
    )(func)


def list_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--list NAME``: another fan-out list in the input volume (default: the workflow row's list)."""
    return click.option(
        "--list", "list_name", default=None, metavar="NAME",
        help="Fan-out list in the input volume (default: the list of this step's row in the workflow table).",
    )(func)


#: The Click command class :func:`module_command` makes (``cls=click.Group`` for a command with sub-commands).
CommandT = TypeVar("CommandT", bound=click.Command)


@overload
def module_command(name: str, *, cls: type[CommandT],
                   **command_kwargs: Any) -> Callable[[Callable[..., Any]], CommandT]: ...
@overload
def module_command(name: str, *, cls: None = None,
                   **command_kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]: ...
def module_command(name: str, *, cls: type[click.Command] | None = None,
                   **command_kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]:
    """Decorate a module's main function as its Click command with the shared conventions.

    ``cls`` is the Click command class (default :class:`click.Command`); ``command_kwargs``
    go to :func:`click.command`.
    """

    def decorate(func: Callable[..., Any]) -> click.Command:
        @functools.wraps(func)
        def wrapper(*args: Any, verbose: bool = False, **kwargs: Any) -> None:
            logger = _log.setup(name, verbose)
            try:
                result = func(*args, **kwargs)
            except ConfluenceError as exc:
                logger.debug("details", exc_info=True)
                click.echo(f"error: {name}: {exc}", err=True)
                sys.exit(EXIT_FAILED)
            except Exception as exc:  # a bug: keep the traceback in the log, end with one line
                logger.error("unexpected failure", exc_info=True)
                click.echo(f"error: {name}: unexpected {type(exc).__name__}: {exc}", err=True)
                sys.exit(EXIT_FAILED)
            if isinstance(result, int) and result:
                sys.exit(result)

        wrapper = click.option("--verbose", "-v", is_flag=True, help="Debug logging.")(wrapper)
        return click.command(name, cls or click.Command, **command_kwargs)(wrapper)

    return decorate


def get_logger(name: str) -> logging.Logger:
    """Return a module logger (after :func:`module_command` configured logging)."""
    return logging.getLogger(name)
