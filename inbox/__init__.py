"""The community manager's inbox: a web workspace to moderate, answer and welcome, and act back on
the platforms (`ecoute inbox serve`). It reads and writes Elasticsearch through ``ecoute.es``."""
