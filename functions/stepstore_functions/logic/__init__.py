"""Use cases as plain functions on domain models; no boto3 here."""
