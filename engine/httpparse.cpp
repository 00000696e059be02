#include "httpparse.h"

#include <QList>

namespace outbox {

namespace {

// Parses "Transfer-Encoding: chunked" bodies. Returns 1 when complete, 0 when more bytes are needed, -1 on error.
int readChunked(const QByteArray &buffer, qsizetype start, QByteArray *body, qsizetype *end)
{
    qsizetype pos = start;
    body->clear();
    for (;;) {
        const qsizetype lineEnd = buffer.indexOf("\r\n", pos);
        if (lineEnd < 0)
            return buffer.size() - pos > 1024 ? -1 : 0;
        bool ok = false;
        const QByteArray sizeText = buffer.mid(pos, lineEnd - pos).split(';').first().trimmed();
        const qint64 size = sizeText.toLongLong(&ok, 16);
        if (!ok || size < 0 || size > kMaxRequestBodyBytes || body->size() + size > kMaxRequestBodyBytes)
            return -1;
        pos = lineEnd + 2;
        if (size == 0) {
            // Trailers end with an empty line.
            const qsizetype trailerEnd = buffer.indexOf("\r\n", pos);
            if (trailerEnd < 0)
                return 0;
            if (trailerEnd == pos) {
                *end = pos + 2;
                return 1;
            }
            const qsizetype blank = buffer.indexOf("\r\n\r\n", pos);
            if (blank < 0)
                return 0;
            *end = blank + 4;
            return 1;
        }
        if (buffer.size() - pos < size + 2)
            return 0;
        body->append(buffer.constData() + pos, size);
        if (buffer.mid(pos + size, 2) != "\r\n")
            return -1;
        pos += size + 2;
    }
}

ParsedRequest bad(int status, const QByteArray &why)
{
    ParsedRequest r;
    r.state = ParsedRequest::Bad;
    r.errorStatus = status;
    r.error = why;
    return r;
}

} // namespace

ParsedRequest parseHttpRequest(const QByteArray &buffer)
{
    ParsedRequest request;
    const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return buffer.size() > kMaxRequestHeadBytes ? bad(431, "request head larger than 64 KiB") : request;
    if (headEnd > kMaxRequestHeadBytes)
        return bad(431, "request head larger than 64 KiB");
    const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
    const QList<QByteArray> requestLine = lines.first().trimmed().split(' ');
    if (requestLine.size() != 3 || !requestLine.at(2).startsWith("HTTP/1."))
        return bad(400, "malformed request line");
    request.method = requestLine.at(0);
    request.target = requestLine.at(1);
    request.http10 = requestLine.at(2) == "HTTP/1.0";
    request.keepAlive = !request.http10;
    qint64 contentLength = 0;
    bool chunked = false;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines.at(i).trimmed();
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            return bad(400, "malformed header line");
        const QByteArray name = line.left(colon).trimmed();
        const QByteArray value = line.mid(colon + 1).trimmed();
        request.message.addHeader(name, value);
        const QByteArray lower = name.toLower();
        if (lower == "content-length") {
            bool ok = false;
            contentLength = value.toLongLong(&ok);
            if (!ok || contentLength < 0)
                return bad(400, "malformed Content-Length");
        } else if (lower == "transfer-encoding") {
            chunked = value.toLower().contains("chunked");
        } else if (lower == "connection") {
            const QByteArray v = value.toLower();
            if (v.contains("close"))
                request.keepAlive = false;
            else if (v.contains("keep-alive"))
                request.keepAlive = true;
        }
    }
    if (chunked) {
        const int state = readChunked(buffer, headEnd + 4, &request.message.body, &request.consumed);
        if (state == 0)
            return ParsedRequest{};
        if (state < 0)
            return bad(400, "malformed chunked body");
    } else {
        if (contentLength > kMaxRequestBodyBytes)
            return bad(413, "request body larger than 64 MiB");
        if (buffer.size() - (headEnd + 4) < contentLength)
            return ParsedRequest{};
        request.message.body = buffer.mid(headEnd + 4, contentLength);
        request.consumed = headEnd + 4 + contentLength;
    }
    request.state = ParsedRequest::Complete;
    return request;
}

} // namespace outbox
