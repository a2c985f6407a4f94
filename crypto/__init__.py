"""Key material and primitives for Liaison, built only from `cryptography`; imports nothing of ours."""
