"""CSV downloads: Finnish-Excel CSV streamed as an attachment, every export audited."""

from flask import Response, stream_with_context

from .. import audit
from ..extensions import db
from ..models import AuditKind
from ..rules.csv_cells import rows_to_csv
from ..rules.masking import mask


def csv_download(header, rows, filename, **what):
    """`rows` may be a generator: the audit commit comes first, so it must not lean on ORM
    objects loaded before it (they are expired by then). `what` are the export's audit facts."""
    # The facts may carry the filters someone typed: masked like everything the log keeps.
    audit.record(AuditKind.EXPORT, **{name: mask(value).text if isinstance(value, str) else value
                                      for name, value in what.items()})
    db.session.commit()
    return Response(stream_with_context(rows_to_csv(header, rows)),
                    content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
