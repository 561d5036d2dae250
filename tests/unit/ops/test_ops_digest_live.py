"""Live digests put documents in `_id` order on the client: the same digest as the server's
own `_id` sort, for every kind of id the generated data holds (real FerretDB)."""
from __future__ import annotations

import datetime as dt

from bson import ObjectId
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from steps.digest import collection_digest, database_digests, digest_ordered

RAW = CodecOptions(document_class=RawBSONDocument)


def server_sorted(db, name):
    collection = db.get_collection(name).with_options(codec_options=RAW)
    return digest_ordered(d.raw for d in collection.find({}, sort=[("_id", 1)]))


def test_client_side_order_gives_the_server_sorted_digest(ferretdb, fresh_db):
    client = ferretdb.client()
    db = client[fresh_db("digest")]
    db.Message.insert_many([{"_id": ObjectId(), "n": n, "at": dt.datetime(2026, 1, 1 + n % 28)}
                            for n in range(300)])
    db.Mixed.insert_many([{"_id": value, "v": 1} for value in
                          (5, "b", "a", 2.5, ObjectId(), {"k": 1}, dt.datetime(2025, 1, 1), -3)])
    for name in ("Message", "Mixed"):
        assert collection_digest(db, name) == server_sorted(db, name), name
    digests = database_digests(client, db.name)
    assert digests["Message"]["count"] == 300 and digests["Mixed"]["count"] == 8
    client.close()
