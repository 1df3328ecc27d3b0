"""Imports: Trello board exports and CSV files become boards (see app/domain/imports.py).

``sources`` reads a file as a stream of neutral records (a board, its cards, their
comments, and what is skipped and why); ``service`` runs one job per board through the
store, one event per record made, so live clients and webhooks see the board fill up.
"""
