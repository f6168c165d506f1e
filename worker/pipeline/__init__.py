"""Pipeline stages: plain functions over plain data, testable without a broker."""
