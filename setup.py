"""Legacy entry point for tools that still call ``setup.py``.

pyproject.toml is the source of truth (flit, like every Frappe app); this script declares the
same name, version and package so the two always agree.
"""

import re
from pathlib import Path

from setuptools import find_packages, setup

version = re.search(
	r'__version__ = "(.+?)"', Path(__file__).with_name("bank_crm").joinpath("__init__.py").read_text()
)[1]

setup(
	name="bank_crm",
	version=version,
	description="Customer-relationship maintenance for banks on Frappe and ERPNext",
	packages=find_packages(include=["bank_crm", "bank_crm.*"]),
	include_package_data=True,
	zip_safe=False,
	python_requires=">=3.10",
	install_requires=[],
)
