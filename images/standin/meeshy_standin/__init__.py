"""Stand-ins for Meeshy's translator, gateway and web images, for rehearsals on one machine.

Same ports, health endpoints and database access as the real services (config/naming.py),
none of their features: no translation model, no authentication, no websockets."""
