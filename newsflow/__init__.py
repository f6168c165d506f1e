"""newsflow's shared package: settings, the store (models, migrations, queries) and the
article contract. Both ``api`` and ``worker`` import it; it imports neither."""
