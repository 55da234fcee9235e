"""FID and friends: one Inception pass feeding FID, KID, precision/recall and IS.

Submodules import torch; this package file does not, so ``evalkit --help`` stays instant.
"""
