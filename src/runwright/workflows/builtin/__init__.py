"""Built-in tools for real systems: HTTP JSON APIs, SQL databases, files."""

from runwright.workflows.builtin.files import FileTool
from runwright.workflows.builtin.http import HttpJsonTool
from runwright.workflows.builtin.sql import SqlTool

__all__ = ["FileTool", "HttpJsonTool", "SqlTool"]
