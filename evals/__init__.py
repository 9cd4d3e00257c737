"""Evaluation datasets, metrics and calibration scripts for the Public Value Assistant."""
