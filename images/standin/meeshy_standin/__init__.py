"""Stand-ins for Meeshy's translator, gateway and web images, for rehearsals on one machine.

Same ports, health endpoints and database access as the real services (meeshy-system.md §1, §3),
none of their features: no translation model, no authentication, no websockets."""
