"""Static files: an nginx serving both upload volumes read-only, as production's static-files."""
from config.services.spec import Probe, ServiceSpec, VolumeUse

PORT = 80
# The web's uploads at /u/ and the gateway's at /uploads/.
NGINX_CONF = """server {
    listen 80 default_server;
    server_name _;
    root /usr/share/nginx/html;
    location = /health { access_log off; default_type text/plain; return 200 "ok\\n"; }
    location /u/ { autoindex off; add_header Cache-Control "public, max-age=86400"; }
    location /uploads/ { autoindex off; add_header Cache-Control "public, max-age=86400"; }
    location / { return 404; }
}
"""

SPEC = ServiceSpec(
    name="static", rank=70, image="static", port=PORT,
    health=Probe("/health", tool="wget", start_period="10s"),
    subdomain="static", maintained=True,
    volumes=(VolumeUse("frontend-uploads", "/usr/share/nginx/html/u", owner=False, read_only=True),
             VolumeUse("gateway-uploads", "/usr/share/nginx/html/uploads", owner=False,
                       read_only=True)),
    configurable=True,
    compose="static-files", compose_required=True,
    app=True, files={"/etc/nginx/conf.d/default.conf": NGINX_CONF},
    command=("nginx", "-g", "daemon off;"), compress=True, gated=True,
)
