import os
import sys

# Make accessdirector_helpers importable (pytest runs with
# --import-mode=importlib, which does not put test folders on sys.path).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
