"""What people look at: the community manager's queues, the HTML report, the Kibana saved objects.

- ``ecoute.views.queues``: ``moderate_queue``, ``answer_queue``/``answer_page``,
  ``questions_queue``/``questions_page``, ``welcome_queue``, ``mark_handled``; their ranking,
  sections, paging and reasons in ``ecoute.views.ranking`` (pure), members' answers and first days
  in ``ecoute.views.members``.
- the HTML report moved to ``jobs.reporting.report`` (it renders with the jobs' one template stack).
- ``ecoute.views.kibana``: ``saved_objects(settings)``, ``import_saved_objects(...)``.

Everything reads the enriched mentions through the alias ``settings.indices.mentions`` and only
uses queries that both Elasticsearch 8/9 and the embedded noida-db answer (docs/architecture.md).
"""
