// SPDX-License-Identifier: MIT
#include "composerdialog.h"

#include "configfiles.h"
#include "httpsender.h"
#include "jsontext.h"
#include "storage.h"
#include "textutil.h"
#include "tones.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QTableWidget>
#include <QVBoxLayout>

namespace outbox::ui {

// (Long: it lays the form out top to bottom, one block per field, so it reads like the dialog.)
ComposerDialog::ComposerDialog(QWidget *parent) : QDialog(parent), m_network(new QNetworkAccessManager(this))
{
    setWindowTitle(tr("Compose a CloudEvent"));
    setObjectName(QStringLiteral("composer"));
    auto *layout = new QVBoxLayout(this);
    m_fixBanner = new QLabel(this);
    m_fixBanner->setObjectName(QStringLiteral("fixBanner"));
    m_fixBanner->setTextFormat(Qt::PlainText);
    m_fixBanner->setWordWrap(true);
    m_fixBanner->setStyleSheet(QStringLiteral("padding: 4px; border: 1px solid #b86e00"));
    m_fixBanner->hide();
    layout->addWidget(m_fixBanner);

    auto *templates = new QHBoxLayout;
    m_templates = new QComboBox(this);
    m_templates->setMinimumContentsLength(20);
    auto *load = new QPushButton(tr("Load"), this);
    auto *paste = new QPushButton(tr("Paste CloudEvent"), this);
    paste->setObjectName(QStringLiteral("pasteCloudEvent"));
    paste->setToolTip(tr("Fill every field from a CloudEvent in structured mode (JSON) on the clipboard"));
    auto *save = new QPushButton(tr("Save as template…"), this);
    auto *remove = new QPushButton(tr("Delete template"), this);
    templates->addWidget(new QLabel(tr("Template"), this));
    templates->addWidget(m_templates, 1);
    templates->addWidget(load);
    templates->addWidget(save);
    templates->addWidget(remove);
    templates->addWidget(paste);
    layout->addLayout(templates);

    auto *form = new QFormLayout;
    m_type = new QLineEdit(this);
    m_type->setPlaceholderText(tr("required, e.g. com.example.order.created"));
    m_source = new QLineEdit(this);
    m_source->setPlaceholderText(tr("required, e.g. /orders"));
    m_subject = new QLineEdit(this);
    m_id = new QLineEdit(this);
    auto *generate = new QPushButton(tr("Generate"), this);
    auto *idRow = new QHBoxLayout;
    idRow->addWidget(m_id, 1);
    idRow->addWidget(generate);
    m_contentType = new QLineEdit(QStringLiteral("application/json"), this);
    m_key = new QLineEdit(this);
    m_key->setPlaceholderText(tr("(enqueue only) events with one key are delivered in order"));
    form->addRow(tr("Type"), m_type);
    form->addRow(tr("Source"), m_source);
    form->addRow(tr("Subject"), m_subject);
    form->addRow(tr("Id"), idRow);
    form->addRow(tr("Content type"), m_contentType);
    form->addRow(tr("Ordering key"), m_key);
    layout->addLayout(form);

    m_extensions = new QTableWidget(0, 2, this);
    m_extensions->setHorizontalHeaderLabels({tr("Extension"), tr("Value")});
    m_extensions->horizontalHeader()->setStretchLastSection(true);
    m_extensions->verticalHeader()->hide();
    m_extensions->setMaximumHeight(110);
    auto *extButtons = new QHBoxLayout;
    auto *addExt = new QPushButton(tr("Add extension"), this);
    auto *removeExt = new QPushButton(tr("Remove extension"), this);
    extButtons->addWidget(addExt);
    extButtons->addWidget(removeExt);
    extButtons->addStretch();
    layout->addWidget(m_extensions);
    layout->addLayout(extButtons);

    m_data = new QPlainTextEdit(this);
    m_data->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_data->setPlaceholderText(tr("the data, e.g. {\"orderId\": 42}"));
    layout->addWidget(new QLabel(tr("Data"), this));
    layout->addWidget(m_data, 1);
    m_validation = new QLabel(this);
    m_validation->setObjectName(QStringLiteral("validation"));
    m_validation->setTextFormat(Qt::PlainText);
    m_validation->setWordWrap(true);
    layout->addWidget(m_validation);

    auto *target = new QHBoxLayout;
    m_url = new QLineEdit(this);
    m_url->setPlaceholderText(tr("e.g. http://127.0.0.1:8080/"));
    m_mode = new QComboBox(this);
    m_mode->addItem(tr("binary"), int(ContentMode::Binary));
    m_mode->addItem(tr("structured"), int(ContentMode::Structured));
    m_mode->addItem(tr("batched"), int(ContentMode::Batch));
    m_send = new QPushButton(tr("Send to URL"), this);
    m_enqueue = new QPushButton(tr("Enqueue into outbox"), this);
    m_enqueue->setObjectName(QStringLiteral("enqueue"));
    target->addWidget(new QLabel(tr("URL"), this));
    target->addWidget(m_url, 1);
    target->addWidget(m_mode);
    target->addWidget(m_send);
    target->addWidget(m_enqueue);
    layout->addLayout(target);
    // Standard Webhooks signing of Send to URL, with a whsec_ secret from a file (made here if need be).
    auto *signing = new QHBoxLayout;
    m_signingFile = new QLineEdit(this);
    m_signingFile->setObjectName(QStringLiteral("composerSigningFile"));
    m_signingFile->setPlaceholderText(tr("optional: a file with a whsec_ secret signs what Send to URL sends"));
    m_signingFile->setText(QSettings().value(QStringLiteral("composer/signingSecretFile")).toString());
    auto *newSecret = new QPushButton(tr("New secret…"), this);
    newSecret->setObjectName(QStringLiteral("newSigningSecret"));
    newSecret->setToolTip(tr("Write a new whsec_ secret to a new file only you can read, and sign with it; give the "
                             "same file to the receiver's Verify signatures"));
    signing->addWidget(new QLabel(tr("Sign with"), this));
    signing->addWidget(m_signingFile, 1);
    signing->addWidget(newSecret);
    layout->addLayout(signing);
    connect(newSecret, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("New signing secret"),
            QDir::home().filePath(QStringLiteral("webhook.secret")), {}, nullptr, QFileDialog::DontConfirmOverwrite);
        if (!path.isEmpty())
            createSigningSecret(path);
    });
    connect(m_signingFile, &QLineEdit::editingFinished, this, [this] {
        QSettings().setValue(QStringLiteral("composer/signingSecretFile"), m_signingFile->text().trimmed());
    });
    m_originalFate = new QComboBox(this);
    m_originalFate->setObjectName(QStringLiteral("originalFate"));
    m_originalFate->addItem(tr("then delete the failed original"), true);
    m_originalFate->addItem(tr("then keep the original failed, its history naming the fix"), false);
    m_originalFate->hide();
    layout->addWidget(m_originalFate);
    m_result = new QLabel(this);
    m_result->setObjectName(QStringLiteral("result"));
    m_result->setTextFormat(Qt::PlainText);
    m_result->setWordWrap(true);
    layout->addWidget(m_result);
    auto *close = new QDialogButtonBox(QDialogButtonBox::Close, this);
    layout->addWidget(close);
    connect(close, &QDialogButtonBox::rejected, this, &QDialog::reject);

    connect(generate, &QPushButton::clicked, this, [this] { m_id->setText(createEventId()); });
    connect(addExt, &QPushButton::clicked, this, [this] {
        m_extensions->insertRow(m_extensions->rowCount());
        m_extensions->setItem(m_extensions->rowCount() - 1, 0, new QTableWidgetItem);
        m_extensions->setItem(m_extensions->rowCount() - 1, 1, new QTableWidgetItem);
        m_extensions->editItem(m_extensions->item(m_extensions->rowCount() - 1, 0));
    });
    connect(removeExt, &QPushButton::clicked, this, [this] {
        if (m_extensions->currentRow() >= 0)
            m_extensions->removeRow(m_extensions->currentRow());
        validate();
    });
    for (QLineEdit *e : {m_type, m_source, m_subject, m_id, m_contentType, m_key})
        connect(e, &QLineEdit::textChanged, this, &ComposerDialog::validate);
    connect(m_data, &QPlainTextEdit::textChanged, this, &ComposerDialog::validate);
    connect(m_extensions, &QTableWidget::itemChanged, this, &ComposerDialog::validate);
    connect(m_mode, &QComboBox::currentIndexChanged, this, &ComposerDialog::validate);
    connect(m_send, &QPushButton::clicked, this, &ComposerDialog::send);
    connect(m_enqueue, &QPushButton::clicked, this, [this] {
        QString problem;
        const OutboxEvent e = composedEvent(&problem);
        if (!problem.isEmpty()) {
            m_result->setText(tr("Not enqueued: %1").arg(problem));
            return;
        }
        rememberLastSent();
        m_result->setText(tr("Enqueuing…"));
        Q_EMIT enqueueRequested(e);
    });
    connect(load, &QPushButton::clicked, this, [this] { loadTemplate(m_templates->currentText()); });
    connect(paste, &QPushButton::clicked, this, [this] {
        QString problem;
        if (!fillFromStructured(QApplication::clipboard()->text().toUtf8(), &problem))
            m_validation->setText(tr("Not pasted: %1").arg(problem));
    });
    connect(save, &QPushButton::clicked, this, [this] {
        bool ok = false;
        const QString name = QInputDialog::getText(
            this, tr("Save template"), tr("Template name"), QLineEdit::Normal, m_templates->currentText(), &ok);
        if (ok && !name.trimmed().isEmpty())
            saveTemplate(name.trimmed());
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        QSettings s;
        s.remove(QStringLiteral("templates/") + m_templates->currentText());
        reloadTemplates();
    });
    reloadTemplates();
    setCanEnqueue(false);
    // It opens on something that can be sent at once: the event last sent or enqueued, else an example.
    const QJsonObject last = storedTemplate(QStringLiteral("composer/lastSent"));
    fillFrom(last.isEmpty() ? exampleTemplate() : last);
    resize(640, 720);
}

QJsonObject ComposerDialog::exampleTemplate()
{
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("com.example.order.created")},
        {QStringLiteral("source"), QStringLiteral("/console")},
        {QStringLiteral("contentType"), QStringLiteral("application/json")},
        {QStringLiteral("data"), QStringLiteral("{\n  \"orderId\": 42,\n  \"total\": 12.5\n}")}};
}

QJsonObject ComposerDialog::storedTemplate(const QString &key)
{
    return QJsonDocument::fromJson(QSettings().value(key).toString().toUtf8()).object();
}

void ComposerDialog::rememberLastSent()
{
    QSettings().setValue(QStringLiteral("composer/lastSent"),
        QString::fromUtf8(QJsonDocument(currentTemplate()).toJson(QJsonDocument::Compact)));
    reloadTemplates();
}

void ComposerDialog::setCanEnqueue(bool can, const QString &why)
{
    m_canEnqueue = can;
    m_enqueue->setEnabled(can);
    m_enqueue->setToolTip(can ? QString() : why.isEmpty() ? tr("Open an outbox first") : why);
}

void ComposerDialog::setTargetUrl(const QString &url)
{
    m_url->setText(url);
}

void ComposerDialog::setEvent(const OutboxEvent &e)
{
    m_type->setText(e.type);
    m_source->setText(e.source);
    m_subject->setText(e.subject);
    m_id->setText(createEventId()); // a reproduction is a new event
    m_contentType->setText(e.contentType);
    m_key->setText(e.orderingKey);
    QJsonObject extensions = e.extensions;
    extensions.remove(QStringLiteral("replayof")); // the replay's own mark, not the event's
    setExtensions(extensions);
    m_data->setPlainText(cloudevents::isValidJson(e.data) && cloudevents::isJsonContentType(e.contentType)
            ? indentJson(e.data)
            : QString::fromUtf8(e.data));
    validate();
}

void ComposerDialog::editForRetry(const OutboxEvent &original)
{
    setEvent(original);
    m_fixing = original.id;
    setWindowTitle(tr("Fix %1").arg(original.id));
    m_fixBanner->setText(tr("Fixing failed event %1 (%2 attempt(s)). Last error: %3\nEdit it, try it with Send to "
                            "URL (the relay target), then Enqueue fix: a new event naming the original "
                            "(replayof).")
                             .arg(original.id)
                             .arg(original.attempts)
                             .arg(oneLine(original.lastError, 300)));
    m_fixBanner->show();
    m_enqueue->setText(tr("Enqueue fix"));
    m_originalFate->setCurrentIndex(0);
    m_originalFate->show();
    m_result->clear();
}

void ComposerDialog::stopFixing()
{
    m_fixing.clear();
    setWindowTitle(tr("Compose a CloudEvent"));
    m_fixBanner->hide();
    m_originalFate->hide();
    m_enqueue->setText(tr("Enqueue into outbox"));
}

bool ComposerDialog::deleteOriginal() const
{
    return m_originalFate->currentData().toBool();
}

bool ComposerDialog::fillFromStructured(const QByteArray &json, QString *problem)
{
    HttpMessage message;
    message.addHeader("Content-Type", "application/cloudevents+json");
    message.body = json.trimmed();
    const DecodedRequest decoded = cloudevents::decode(message);
    if (!decoded.error.isEmpty() || decoded.events.size() != 1) {
        *problem = decoded.error.isEmpty() ? tr("not one CloudEvent in structured mode") : decoded.error;
        return false;
    }
    const ReceivedEvent &r = decoded.events.first();
    if (!r.isValid()) {
        *problem = r.problems.join(QStringLiteral("; "));
        return false;
    }
    const OutboxEvent &e = r.event;
    m_type->setText(e.type);
    m_source->setText(e.source);
    m_subject->setText(e.subject);
    m_id->setText(e.id);
    m_contentType->setText(e.contentType);
    setExtensions(e.extensions);
    m_data->setPlainText(cloudevents::isValidJson(e.data) && cloudevents::isJsonContentType(e.contentType)
            ? indentJson(e.data)
            : QString::fromUtf8(e.data));
    validate();
    return true;
}

void ComposerDialog::setExtensions(const QJsonObject &extensions)
{
    m_extensions->setRowCount(0);
    for (auto it = extensions.constBegin(); it != extensions.constEnd(); ++it) {
        const int row = m_extensions->rowCount();
        m_extensions->insertRow(row);
        m_extensions->setItem(row, 0, new QTableWidgetItem(it.key()));
        m_extensions->setItem(row, 1, new QTableWidgetItem(it.value().toVariant().toString()));
    }
}

OutboxEvent ComposerDialog::composedEvent(QString *problem) const
{
    OutboxEvent e;
    e.id = m_id->text().trimmed().isEmpty() ? createEventId() : m_id->text().trimmed();
    e.type = m_type->text().trimmed();
    e.source = m_source->text().trimmed();
    e.subject = m_subject->text().trimmed();
    e.contentType = m_contentType->text().trimmed();
    e.orderingKey = m_key->text().trimmed();
    e.createdAt = QDateTime::currentDateTimeUtc();
    e.data = m_data->toPlainText().toUtf8();
    e.replayOf = m_fixing;
    for (int row = 0; row < m_extensions->rowCount(); ++row) {
        const QString name = m_extensions->item(row, 0) ? m_extensions->item(row, 0)->text().trimmed() : QString();
        const QString value = m_extensions->item(row, 1) ? m_extensions->item(row, 1)->text() : QString();
        if (name.isEmpty())
            continue;
        if (const QString why = cloudevents::extensionNameProblem(name); !why.isEmpty()) {
            *problem = tr("extension '%1': %2").arg(name, why);
            return {};
        }
        e.extensions.insert(name, value);
    }
    if (!m_fixing.isEmpty())
        e.extensions.insert(QStringLiteral("replayof"), m_fixing); // as a replay names its original
    if (e.type.isEmpty()) {
        *problem = tr("the type is required");
        return {};
    }
    if (e.source.isEmpty()) {
        *problem = tr("the source is required");
        return {};
    }
    if (cloudevents::isJsonContentType(e.contentType.isEmpty() ? QStringLiteral("application/json") : e.contentType)
        && !e.data.isEmpty()) {
        QString why;
        if (!cloudevents::isValidJson(e.data, &why)) {
            *problem = tr("the data is not valid JSON: %1").arg(why);
            return {};
        }
    }
    const QString why = cloudevents::validate(e, ContentMode(m_mode->currentData().toInt()));
    if (!why.isEmpty()) {
        *problem = why;
        return {};
    }
    problem->clear();
    return e;
}

void ComposerDialog::validate()
{
    QString problem;
    composedEvent(&problem);
    m_validation->setText(problem.isEmpty() ? tr("✔ a valid CloudEvent") : tr("✘ %1").arg(problem));
    m_validation->setStyleSheet(toneStyle(problem.isEmpty() ? Tone::Good : Tone::Bad));
    m_send->setEnabled(problem.isEmpty());
    m_enqueue->setEnabled(problem.isEmpty() && m_canEnqueue);
}

void ComposerDialog::send()
{
    QString problem;
    const OutboxEvent e = composedEvent(&problem);
    const QUrl url(m_url->text().trimmed(), QUrl::StrictMode);
    if (!problem.isEmpty()) {
        m_result->setText(tr("Not sent: %1").arg(problem));
        return;
    }
    if (!url.isValid() || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https"))
        || url.host().isEmpty()) {
        m_result->setText(tr("Not sent: '%1' is not an http:// or https:// URL").arg(m_url->text().trimmed()));
        return;
    }
    QByteArray signingKey;
    if (const QString file = m_signingFile->text().trimmed(); !file.isEmpty()) {
        QByteArray secret;
        QString error;
        if (!readSecretFile(file, tr("signing secret file"), &secret, &error)) {
            m_result->setText(tr("Not sent: %1").arg(error));
            return;
        }
        RelayerConfig signing;
        signing.signingSecret = secret.trimmed();
        signingKey = signing.signingKey();
        if (signingKey.isEmpty()) {
            m_result->setText(tr("Not sent: '%1' does not hold a whsec_ secret").arg(file));
            return;
        }
    }
    rememberLastSent();
    const auto mode = ContentMode(m_mode->currentData().toInt());
    const HttpMessage message =
        mode == ContentMode::Batch ? cloudevents::encodeBatch({e}) : cloudevents::encode(e, mode);
    QNetworkRequest request(url);
    request.setTransferTimeout(10000);
    for (const auto &h : message.headers)
        request.setRawHeader(h.first, h.second);
    if (!signingKey.isEmpty()) { // as the relayer signs: the event id, the time in seconds, the body
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        request.setRawHeader("webhook-id", e.id.toUtf8());
        request.setRawHeader("webhook-timestamp", QByteArray::number(now));
        request.setRawHeader(
            "webhook-signature", HttpSender::webhookSignature(signingKey, e.id.toUtf8(), now, message.body));
    }
    auto *clock = new QElapsedTimer;
    clock->start();
    QNetworkReply *reply = m_network->post(request, message.body);
    m_result->setText(tr("Sending to %1…").arg(url.toString()));
    connect(reply, &QNetworkReply::finished, this, [this, reply, clock, id = e.id] {
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const qint64 ms = clock->elapsed();
        delete clock;
        if (status > 0)
            m_result->setText(tr("Event %1: HTTP %2 in %3 ms %4")
                                  .arg(id)
                                  .arg(status)
                                  .arg(ms)
                                  .arg(oneLine(QString::fromUtf8(reply->readAll()), 200)));
        else
            m_result->setText(tr("Event %1 not delivered: %2").arg(id, reply->errorString()));
        reply->deleteLater();
    });
}

bool ComposerDialog::createSigningSecret(const QString &path)
{
    QString error;
    if (!writeNewSigningSecret(path, &error)) {
        m_result->setText(error);
        return false;
    }
    m_signingFile->setText(path);
    QSettings().setValue(QStringLiteral("composer/signingSecretFile"), path);
    m_result->setText(tr("New signing secret in %1 (readable by you alone). Give the same file to the receiver's "
                         "Verify signatures, or to a relayer's signing secret file.")
                          .arg(path));
    return true;
}

void ComposerDialog::showEnqueueResult(const QString &id, const QString &error)
{
    m_result->setText(
        error.isEmpty() ? tr("Enqueued event %1 into the outbox").arg(id) : tr("Not enqueued: %1").arg(error));
    if (error.isEmpty())
        m_id->setText(createEventId()); // the next enqueue must not reuse the id
}

QJsonObject ComposerDialog::currentTemplate() const
{
    QJsonObject t{{QStringLiteral("type"), m_type->text()}, {QStringLiteral("source"), m_source->text()},
        {QStringLiteral("subject"), m_subject->text()}, {QStringLiteral("contentType"), m_contentType->text()},
        {QStringLiteral("orderingKey"), m_key->text()}, {QStringLiteral("data"), m_data->toPlainText()},
        {QStringLiteral("mode"), m_mode->currentIndex()}, {QStringLiteral("url"), m_url->text()}};
    QJsonObject ext;
    for (int row = 0; row < m_extensions->rowCount(); ++row) {
        if (m_extensions->item(row, 0) && !m_extensions->item(row, 0)->text().trimmed().isEmpty())
            ext.insert(m_extensions->item(row, 0)->text().trimmed(),
                m_extensions->item(row, 1) ? m_extensions->item(row, 1)->text() : QString());
    }
    t.insert(QStringLiteral("extensions"), ext);
    return t;
}

void ComposerDialog::saveTemplate(const QString &rawName)
{
    QString name = rawName; // a slash would make a settings group, not a key
    name.replace(QLatin1Char('/'), QLatin1Char('-')).replace(QLatin1Char('\\'), QLatin1Char('-'));
    QSettings s;
    s.setValue(QStringLiteral("templates/") + name,
        QString::fromUtf8(QJsonDocument(currentTemplate()).toJson(QJsonDocument::Compact)));
    reloadTemplates();
    m_templates->setCurrentText(name);
}

void ComposerDialog::loadTemplate(const QString &name)
{
    if (name == lastSentName())
        fillFrom(storedTemplate(QStringLiteral("composer/lastSent")));
    else if (name == exampleName())
        fillFrom(exampleTemplate());
    else
        fillFrom(storedTemplate(QStringLiteral("templates/") + name));
}

void ComposerDialog::fillFrom(const QJsonObject &t)
{
    if (t.isEmpty())
        return;
    m_type->setText(t.value(QStringLiteral("type")).toString());
    m_source->setText(t.value(QStringLiteral("source")).toString());
    m_subject->setText(t.value(QStringLiteral("subject")).toString());
    m_contentType->setText(t.value(QStringLiteral("contentType")).toString());
    m_key->setText(t.value(QStringLiteral("orderingKey")).toString());
    m_data->setPlainText(t.value(QStringLiteral("data")).toString());
    m_mode->setCurrentIndex(qBound(0, t.value(QStringLiteral("mode")).toInt(), 2));
    if (!t.value(QStringLiteral("url")).toString().isEmpty())
        m_url->setText(t.value(QStringLiteral("url")).toString());
    setExtensions(t.value(QStringLiteral("extensions")).toObject());
    m_id->setText(createEventId());
    validate();
}

void ComposerDialog::reloadTemplates()
{
    QSettings s;
    s.beginGroup(QStringLiteral("templates"));
    const QStringList names = s.childKeys();
    s.endGroup();
    const QString current = m_templates->currentText();
    m_templates->clear();
    // The two built in first: the last event sent or enqueued from here, and an example to start from.
    if (s.contains(QStringLiteral("composer/lastSent")))
        m_templates->addItem(lastSentName());
    m_templates->addItem(exampleName());
    m_templates->addItems(names);
    if (!current.isEmpty())
        m_templates->setCurrentText(current);
}

} // namespace outbox::ui
