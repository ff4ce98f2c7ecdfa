"""The inbox's route groups; each module's ``add_routes(app, web)`` adds its routes to the app."""
