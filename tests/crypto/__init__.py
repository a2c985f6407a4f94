"""Tests of the crypto layer."""
