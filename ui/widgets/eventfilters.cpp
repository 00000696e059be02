// SPDX-License-Identifier: MIT
// The event browser's filter bar and payload search bar: what the table shows, chosen by the operator.
#include "eventbrowser.h"

#include "flowlayout.h"

#include "detailpane.h"
#include "eventmodel.h"
#include "failuregroupsview.h"
#include "session.h"
#include "hovertext.h"
#include "textutil.h"
#include "tones.h"

#include <QAction>
#include <QComboBox>
#include <QDate>
#include <QCompleter>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QShortcut>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTabBar>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>

namespace outbox::ui {

namespace {
const EventStatus kTabStatus[] = {EventStatus::Pending, EventStatus::Failed, EventStatus::Sent};

QDateTime parseTime(const QString &text, bool *ok)
{
    const QString t = text.trimmed();
    *ok = true;
    if (t.isEmpty())
        return {};
    for (const char *format : {"yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd"}) {
        QDateTime d = QDateTime::fromString(t, QString::fromLatin1(format));
        if (d.isValid())
            return d;
    }
    QDateTime d = QDateTime::fromString(t, Qt::ISODateWithMs);
    if (d.isValid())
        return d;
    *ok = false;
    return {};
}
} // namespace

QLineEdit *EventBrowser::fieldEdit(Field field) const
{
    switch (field) {
    case Field::Find:
        return m_idFilter;
    case Field::Type:
        return m_typeFilter;
    case Field::Source:
        return m_sourceFilter;
    case Field::Key:
        return m_keyFilter;
    case Field::Error:
        return m_errorFilter;
    case Field::None:
        break;
    }
    return nullptr;
}

QWidget *EventBrowser::buildFilterBar()
{
    // The fields flow onto a second line in a narrow window; each is at least as wide as its placeholder.
    auto *bar = new QWidget(this);
    auto *row = new FlowLayout(bar);
    auto edit = [bar, row](const QString &placeholder, const QString &name, int width) {
        auto *e = new QLineEdit(bar);
        e->setPlaceholderText(placeholder);
        e->setObjectName(name);
        e->setClearButtonEnabled(true);
        e->setMinimumWidth(qMax(width, fittingWidth(e, placeholder)));
        row->addWidget(e);
        return e;
    };
    m_idFilter = edit(tr("find: id, subject, key  (/)"), QStringLiteral("idFilter"), 170);
    m_idFilter->setToolTip(tr("An event id or its start, a subject or an ordering key, in every status"));
    m_typeFilter = edit(tr("type"), QStringLiteral("typeFilter"), 140);
    m_sourceFilter = edit(tr("source"), QStringLiteral("sourceFilter"), 100);
    m_keyFilter = edit(tr("ordering key"), QStringLiteral("keyFilter"), 90);
    m_errorFilter = edit(tr("error contains"), QStringLiteral("errorFilter"), 110);
    // The date fields show their format by example (today), HH:mm optional, in their tooltips.
    const QString today = QDate::currentDate().toString(QStringLiteral("yyyy-MM-dd"));
    m_fromFilter = edit(tr("from %1").arg(today), QStringLiteral("fromFilter"), 110);
    m_fromFilter->setToolTip(tr("Created at or after: yyyy-MM-dd or yyyy-MM-dd HH:mm, local time"));
    m_toFilter = edit(tr("to (excl.)"), QStringLiteral("toFilter"), 90);
    m_toFilter->setToolTip(tr("Created before: yyyy-MM-dd or yyyy-MM-dd HH:mm, local time"));
    auto *apply = new QPushButton(tr("Filter"), bar);
    auto *clear = new QPushButton(tr("Clear"), bar);
    row->addWidget(apply);
    row->addWidget(clear);
    for (QLineEdit *e :
        {m_idFilter, m_typeFilter, m_sourceFilter, m_keyFilter, m_errorFilter, m_fromFilter, m_toFilter})
        connect(e, &QLineEdit::returnPressed, this, &EventBrowser::applyFilters);
    // Type and source complete from the values in the outbox, with how many events have each, by prefix;
    // choosing one applies it.
    for (QLineEdit *e : {m_typeFilter, m_sourceFilter}) {
        auto *model = new QStandardItemModel(e);
        auto *completer = new QCompleter(model, e);
        completer->setCompletionRole(Qt::UserRole);
        completer->setCaseSensitivity(Qt::CaseInsensitive);
        completer->setFilterMode(Qt::MatchStartsWith);
        completer->setMaxVisibleItems(15);
        e->setCompleter(completer);
        connect(completer, qOverload<const QString &>(&QCompleter::activated), this, [this, e](const QString &value) {
            e->setText(value);
            applyFilters();
        });
    }
    connect(apply, &QPushButton::clicked, this, &EventBrowser::applyFilters);
    connect(clear, &QPushButton::clicked, this, [this] {
        for (QLineEdit *e : {m_idFilter, m_typeFilter, m_sourceFilter, m_keyFilter, m_errorFilter, m_fromFilter,
                 m_toFilter, m_searchEdit})
            e->clear();
        m_model->cancel();
        clearRestriction();
        applyFilters();
    });
    // Shown while the table holds only a failure group's or an operation's events.
    m_restriction = new QLabel(bar);
    m_restriction->setObjectName(QStringLiteral("restriction"));
    m_restriction->setTextFormat(Qt::PlainText);
    m_restriction->setMinimumWidth(60); // cut in a narrow window, whole in its tooltip
    m_restrictionClear = new QPushButton(tr("Show all"), bar);
    m_restrictionClear->setObjectName(QStringLiteral("clearRestriction"));
    row->addWidget(m_restriction);
    row->addWidget(m_restrictionClear);
    m_restriction->hide();
    m_restrictionClear->hide();
    connect(m_restrictionClear, &QPushButton::clicked, this, [this] {
        clearRestriction();
        applyFilters();
    });
    return bar;
}

void EventBrowser::loadCompletions(bool force)
{
    if (!m_session->isOpen() || (!force && m_completionsLoadedAt.isValid() && m_completionsLoadedAt.elapsed() < 60000))
        return;
    m_completionsLoadedAt.start();
    struct Values
    {
        Result<QList<QPair<QString, qint64>>> types = QList<QPair<QString, qint64>>{};
        Result<QList<QPair<QString, qint64>>> sources = QList<QPair<QString, qint64>>{};
    };
    m_session->call<Values>(
        this,
        [](Storage &s) {
            Values v;
            v.types = s.valueCounts(Storage::Attribute::Type, 500);
            v.sources = s.valueCounts(Storage::Attribute::Source, 500);
            return v;
        },
        [this](const Values &v) {
            const QLocale locale;
            const std::pair<QLineEdit *, const Result<QList<QPair<QString, qint64>>> *> lists[] = {
                {m_typeFilter, &v.types}, {m_sourceFilter, &v.sources}};
            for (const auto &[edit, values] : lists) {
                auto *model = qobject_cast<QStandardItemModel *>(edit->completer()->model());
                if (!model || !values->isOk())
                    continue;
                model->clear();
                for (const auto &[value, n] : values->value()) {
                    auto *item = new QStandardItem(tr("%1   (%2)").arg(oneLine(value, 200), locale.toString(n)));
                    item->setData(value, Qt::UserRole);
                    model->appendRow(item);
                }
            }
        },
        Session::Lane::Background);
}

void EventBrowser::presetFilters(int tab, Field which, const QString &value)
{
    QLineEdit *field = fieldEdit(which);
    for (QLineEdit *edit : {m_idFilter, m_typeFilter, m_sourceFilter, m_keyFilter, m_errorFilter, m_fromFilter,
             m_toFilter, m_searchEdit}) {
        const QSignalBlocker blocker(edit);
        edit->setText(edit == field ? value : QString());
        edit->setStyleSheet(QString());
    }
    if (tab >= 0) {
        const QSignalBlocker blocker(m_tabs);
        m_tabs->setCurrentIndex(tab);
    }
}

void EventBrowser::restrictTo(const QList<qint64> &sequences, const QString &label)
{
    m_model->setRestriction(sequences, label);
    m_restriction->setText(tr("Only %1").arg(elideMiddle(label, 90))); // the whole of it on hover
    m_restriction->setToolTip(plainTooltip(label));
    m_restriction->show();
    m_restrictionClear->show();
}

void EventBrowser::clearRestriction()
{
    m_restriction->hide();
    m_restrictionClear->hide();
    m_model->clearRestriction();
}

void EventBrowser::showFailureGroup(const FailureGroup &group, const QList<qint64> &sequences)
{
    // The Failed tab, the group's type in the filter, the rest cleared; then only the group's events.
    presetFilters(2, Field::Type, group.type);
    restrictTo(sequences,
        tr("the %L1 failed event(s) of group %2").arg(sequences.size()).arg(FailureGroupsView::groupName(group)));
    applyFilters();
    m_table->setFocus();
}

QWidget *EventBrowser::buildSearchBar()
{
    auto *bar = new QWidget(this);
    auto *row = new FlowLayout(bar);
    m_searchEdit = new QLineEdit(bar);
    m_searchEdit->setObjectName(QStringLiteral("searchEdit"));
    m_searchEdit->setPlaceholderText(tr("search payloads: text, or data.path = value (Ctrl+F)"));
    m_searchEdit->setMinimumWidth(fittingWidth(m_searchEdit, m_searchEdit->placeholderText()));
    m_searchEdit->setClearButtonEnabled(true);
    m_searchRange = new QComboBox(bar);
    m_searchRange->setObjectName(QStringLiteral("searchRange"));
    m_searchRange->addItem(tr("in the newest 10,000 events"), 10000);
    m_searchRange->addItem(tr("in the newest 100,000 events"), 100000);
    m_searchRange->addItem(tr("in the newest 1,000,000 events"), 1000000);
    m_searchRange->addItem(tr("in all events"), 0);
    m_searchRange->setCurrentIndex(1);
    auto *go = new QPushButton(tr("Search"), bar);
    m_cancel = new QPushButton(tr("Cancel"), bar);
    m_cancel->setObjectName(QStringLiteral("cancel"));
    m_cancel->setEnabled(false);
    m_searchProgress = new QProgressBar(bar);
    m_searchProgress->setObjectName(QStringLiteral("searchProgress"));
    m_searchProgress->setRange(0, 100);
    m_searchProgress->setMaximumWidth(160);
    m_searchProgress->hide();
    row->addWidget(m_searchEdit);
    row->addWidget(m_searchRange);
    row->addWidget(go);
    row->addWidget(m_cancel);
    row->addWidget(m_searchProgress);
    connect(m_searchEdit, &QLineEdit::returnPressed, this, &EventBrowser::startSearch);
    connect(go, &QPushButton::clicked, this, &EventBrowser::startSearch);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        m_model->cancel();
        m_rowsLabel->setText(tr("Stopped: %L1 event(s) so far").arg(m_model->rowCount()));
    });
    return bar;
}

void EventBrowser::applyFilters()
{
    EventFilter f;
    // An id is looked for in every status: the All tab shows it wherever it is.
    f.find = m_idFilter->text().trimmed(); // an id, the start of one, a subject or an ordering key
    if (!f.find.isEmpty() && !m_restriction->isHidden()) {
        // Finding leaves a failure group's view (its events and the filters it set), which would hide the rest.
        for (QLineEdit *e : {m_typeFilter, m_sourceFilter, m_keyFilter, m_errorFilter, m_fromFilter, m_toFilter})
            e->clear();
        clearRestriction();
    }
    if (!f.find.isEmpty() && m_tabs->currentIndex() != 0) {
        m_tabs->setCurrentIndex(0); // applies the filters again
        return;
    }
    const int tab = m_tabs->currentIndex();
    if (tab >= 1 && tab <= 3)
        f.status = kTabStatus[tab - 1];
    f.type = m_typeFilter->text().trimmed();
    f.source = m_sourceFilter->text().trimmed();
    f.orderingKey = m_keyFilter->text().trimmed();
    f.errorContains = m_errorFilter->text().trimmed();
    bool okFrom = true, okTo = true;
    f.createdFrom = parseTime(m_fromFilter->text(), &okFrom);
    f.createdTo = parseTime(m_toFilter->text(), &okTo);
    m_fromFilter->setStyleSheet(okFrom ? QString() : toneStyle(Tone::Bad));
    m_toFilter->setStyleSheet(okTo ? QString() : toneStyle(Tone::Bad));
    if (!okFrom || !okTo) {
        Q_EMIT message(tr("Times are written like 2026-11-27 14:30 (local time)."), 6000);
        return;
    }
    m_detail->clear();
    m_findApplied = !f.find.isEmpty();
    if (!m_searchEdit->text().isEmpty()) {
        m_model->setFilter(f);
        startSearch();
        return;
    }
    m_model->clearSearch();
    m_model->setFilter(f);
}

// What the find box found: one event is selected and shown; none, while other filters are set, says so.
void EventBrowser::findFinished(qint64 rows)
{
    if (rows == 1) {
        m_table->setCurrentIndex(m_model->index(0, 0));
        m_table->selectRow(0);
        showCurrentDetail();
        return;
    }
    QStringList others;
    for (QLineEdit *e : {m_typeFilter, m_sourceFilter, m_keyFilter, m_errorFilter, m_fromFilter, m_toFilter}) {
        if (!e->text().trimmed().isEmpty())
            others << e->placeholderText().section(QStringLiteral("  "), 0, 0);
    }
    if (rows == 0 && (!others.isEmpty() || !m_searchEdit->text().isEmpty()))
        Q_EMIT message(
            tr("No event matches \"%1\" with the other filters set (%2): Clear looks in every event.")
                .arg(oneLine(m_idFilter->text().trimmed(), 60),
                    (others + (m_searchEdit->text().isEmpty() ? QStringList() : QStringList{tr("payload search")}))
                        .join(QStringLiteral(", "))),
            10000);
}

void EventBrowser::startSearch()
{
    const QString text = m_searchEdit->text();
    if (text.isEmpty()) {
        m_searchProgress->hide();
        m_model->clearSearch();
        return;
    }
    m_searchProgress->setValue(0);
    m_searchProgress->show();
    m_table->horizontalHeader()->setSortIndicator(EventTableModel::Time, Qt::DescendingOrder);
    m_model->search(text.toUtf8(), m_searchRange->currentData().toLongLong());
}

QString EventBrowser::describeFilter() const
{
    QStringList parts;
    if (m_tabs->currentIndex() > 0)
        parts << tr("status %1").arg(statusName(kTabStatus[m_tabs->currentIndex() - 1]));
    const std::pair<QLineEdit *, QString> fields[] = {{m_idFilter, tr("id, subject or key")},
        {m_typeFilter, tr("type")}, {m_sourceFilter, tr("source")}, {m_keyFilter, tr("key")},
        {m_errorFilter, tr("error containing")}, {m_fromFilter, tr("created from")}, {m_toFilter, tr("created before")},
        {m_searchEdit, tr("payload containing")}};
    for (const auto &[edit, name] : fields) {
        if (!edit->text().trimmed().isEmpty())
            parts << QStringLiteral("%1 \u201c%2\u201d").arg(name, edit->text().trimmed());
    }
    if (!m_model->restrictionLabel().isEmpty())
        parts << m_model->restrictionLabel();
    return parts.isEmpty() ? tr("no filter") : parts.join(QStringLiteral(", "));
}

} // namespace outbox::ui
