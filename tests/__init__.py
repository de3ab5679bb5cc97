"""Tests for the Retro Walk integration."""
