import QtQuick
import Weir.Workbench
import QtQuick.Controls
import QtQuick.Layouts

// The inspector: the selected node's id, type, schemas and params (InspectorModel), or the
// selected edge's schema, or, with nothing selected, the job's own settings.
Rectangle {
    id: inspector
    required property JobDocument doc
    color: Theme.panel
    /// The job's checkpoint and restart settings do nothing yet: shown, not offered.
    property bool faultToleranceAvailable: true
    function focusId() { idField.forceActiveFocus(); idField.selectAll() }

    readonly property bool showNode: doc.inspector.active
    readonly property bool showEdge: !showNode && doc.selectedEdge > 0
    property var edgeInfo: ({})
    function refreshEdge() { edgeInfo = showEdge ? doc.edgeInfo(doc.selectedEdge) : ({}) }
    Connections {
        target: inspector.doc
        function onSelectionChanged() { inspector.refreshEdge() }
        function onValidated() { inspector.refreshEdge() }
    }

    // Schema as a two-column table.
    component SchemaTable: Column {
        property var fields: []
        property string emptyText: "not known yet"
        spacing: 0
        Repeater {
            model: parent.fields
            delegate: Rectangle {
                required property var modelData
                required property int index
                width: parent ? parent.width : 0
                height: 20
                color: index % 2 ? "transparent" : Theme.stripe
                Text { x: 6; anchors.verticalCenter: parent.verticalCenter; text: parent.modelData.name; font.pixelSize: 11; font.family: Theme.monoFamily; color: Theme.text }
                Text { anchors.right: parent.right; anchors.rightMargin: 6; anchors.verticalCenter: parent.verticalCenter; text: parent.modelData.type; font.pixelSize: 11; color: Theme.textMuted }
            }
        }
        Text { visible: parent.fields.length === 0; text: parent.emptyText; font.pixelSize: 11; color: Theme.textFaint; leftPadding: 6 }
    }
    component SectionTitle: Label {
        font.pixelSize: 10
        font.letterSpacing: 0.8
        color: Theme.textFaint
        topPadding: 8
    }

    ScrollView {
        id: scroll
        anchors.fill: parent
        contentWidth: availableWidth
        clip: true

        ColumnLayout {
            width: scroll.availableWidth
            spacing: 6

            // ---- a node
            ColumnLayout {
                visible: inspector.showNode
                Layout.fillWidth: true
                Layout.margins: 12
                spacing: 4
                RowLayout {
                    Layout.fillWidth: true
                    Rectangle { width: 10; height: 10; radius: 5; color: Theme.categoryColor(inspector.doc.nodes.count >= 0 ? (inspector.doc.inspector.type.startsWith("source") ? "source" : inspector.doc.inspector.type.startsWith("sink") ? "sink" : "transform") : "") }
                    Label { text: inspector.doc.inspector.title; font.bold: true; font.pixelSize: 14; color: Theme.text; Layout.fillWidth: true; elide: Text.ElideRight }
                    Label { text: inspector.doc.inspector.type; font.family: Theme.monoFamily; font.pixelSize: 11; color: Theme.textMuted }
                }
                TextField {
                    id: idField
                    objectName: "nodeIdField"
                    Layout.fillWidth: true
                    text: inspector.doc.inspector.nodeId
                    selectByMouse: true
                    font.family: Theme.monoFamily
                    property string refusal: ""
                    onEditingFinished: {
                        if (text === inspector.doc.inspector.nodeId) { refusal = ""; return }
                        refusal = inspector.doc.renameNode(inspector.doc.inspector.nodeId, text)
                        if (refusal !== "") text = inspector.doc.inspector.nodeId
                    }
                    ToolTip.visible: refusal !== ""
                    ToolTip.text: refusal
                    ToolTip.timeout: 3000
                }
                Label {
                    Layout.fillWidth: true
                    text: inspector.doc.inspector.doc
                    wrapMode: Text.Wrap
                    font.pixelSize: 11
                    color: Theme.textMuted
                    maximumLineCount: 4
                    elide: Text.ElideRight
                }
                RowLayout {
                    Layout.fillWidth: true
                    Label { text: "parallelism"; font.pixelSize: 12; color: Theme.text; Layout.fillWidth: true }
                    Label {
                        text: inspector.doc.inspector.parallelism === 0 ? "the job's: " + inspector.doc.inspector.resolvedParallelism
                                                                       : ""
                        font.pixelSize: 11
                        color: Theme.textFaint
                    }
                    SpinBox {
                        from: 0; to: 1024
                        value: inspector.doc.inspector.parallelism
                        editable: true
                        implicitWidth: 110
                        textFromValue: (v) => v === 0 ? "auto" : String(v)
                        valueFromText: (t) => { const n = parseInt(t); return isNaN(n) ? 0 : n }
                        onValueModified: inspector.doc.setNodeParallelism(inspector.doc.inspector.nodeId, value)
                    }
                }
                Repeater {  // problems that belong to no param row
                    model: inspector.doc.inspector.otherProblems
                    delegate: Label {
                        required property string modelData
                        Layout.fillWidth: true
                        text: "⚠ " + modelData
                        color: Theme.error
                        font.pixelSize: 11
                        wrapMode: Text.Wrap
                    }
                }
            }

            SectionTitle { visible: inspector.showNode; text: "PARAMETERS"; Layout.leftMargin: 12 }
            ListView {
                id: params
                objectName: "inspectorParams"
                visible: inspector.showNode
                Layout.fillWidth: true
                Layout.preferredHeight: contentHeight
                interactive: false
                model: inspector.doc.inspector
                delegate: ParamRow {
                    doc: inspector.doc
                    nodeId: inspector.doc.inspector.nodeId
                    focused: inspector.doc.inspector.focusPath !== "" && inspector.doc.inspector.focusPath === path
                }
            }

            ColumnLayout {
                visible: inspector.showNode
                Layout.fillWidth: true
                Layout.margins: 12
                spacing: 2
                SectionTitle { text: "INPUT SCHEMA" }
                SchemaTable { Layout.fillWidth: true; fields: inspector.doc.inspector.inputSchema; emptyText: "none" }
                SectionTitle { text: "OUTPUT SCHEMA" }
                SchemaTable { Layout.fillWidth: true; fields: inspector.doc.inspector.outputSchema }
                Label {
                    Layout.fillWidth: true
                    text: inspector.doc.inspector.outputDoc
                    wrapMode: Text.Wrap
                    font.pixelSize: 10
                    color: Theme.textFaint
                    topPadding: 4
                }
            }

            // ---- an edge
            ColumnLayout {
                visible: inspector.showEdge
                Layout.fillWidth: true
                Layout.margins: 12
                spacing: 4
                Label { text: "Edge"; font.bold: true; font.pixelSize: 14; color: Theme.text }
                Label {
                    text: (inspector.edgeInfo.from || "") + "." + (inspector.edgeInfo.fromPort || "") + "  →  " +
                          (inspector.edgeInfo.to || "") + "." + (inspector.edgeInfo.toPort || "")
                    font.family: Theme.monoFamily; font.pixelSize: 12; color: Theme.text
                }
                Label {
                    text: "partition: " + (inspector.edgeInfo.partition || "") +
                          (inspector.edgeInfo.keyFields && inspector.edgeInfo.keyFields.length ? " on " + inspector.edgeInfo.keyFields.join(", ") : "")
                    font.pixelSize: 12; color: Theme.textMuted
                }
                RowLayout {
                    Label { text: "asked"; font.pixelSize: 12; color: Theme.text; Layout.fillWidth: true }
                    ComboBox {
                        objectName: "partitionCombo"
                        model: ["auto", "forward", "rebalance", "broadcast"]
                        currentIndex: Math.max(0, model.indexOf(inspector.edgeInfo.asked || "auto"))
                        onActivated: (i) => {
                            const why = inspector.doc.setEdgePartition(inspector.doc.selectedEdge, model[i])
                            if (why !== "") console.warn(why)
                        }
                    }
                }
                Label { visible: !!inspector.edgeInfo.problem; text: "⚠ " + (inspector.edgeInfo.problem || ""); color: Theme.error; wrapMode: Text.Wrap; Layout.fillWidth: true; font.pixelSize: 11 }
                SectionTitle { text: "SCHEMA" }
                SchemaTable { Layout.fillWidth: true; fields: inspector.edgeInfo.schema || [] }
                Button {
                    text: "Disconnect"
                    onClicked: inspector.doc.disconnectEdge(inspector.doc.selectedEdge)
                }
            }

            // ---- the job
            ColumnLayout {
                visible: !inspector.showNode && !inspector.showEdge
                Layout.fillWidth: true
                Layout.margins: 12
                spacing: 6
                Label { text: "Job"; font.bold: true; font.pixelSize: 14; color: Theme.text }
                Label { text: "name"; font.pixelSize: 12; color: Theme.text }
                TextField {
                    objectName: "jobNameField"
                    Layout.fillWidth: true
                    text: inspector.doc.name
                    selectByMouse: true
                    onEditingFinished: if (text !== inspector.doc.name) inspector.doc.name = text
                }
                Label { text: "mode"; font.pixelSize: 12; color: Theme.text }
                ComboBox {
                    Layout.fillWidth: true
                    model: ["streaming", "batch"]
                    currentIndex: inspector.doc.mode === "batch" ? 1 : 0
                    onActivated: (i) => inspector.doc.mode = model[i]
                }
                Label { text: "parallelism"; font.pixelSize: 12; color: Theme.text }
                SpinBox {
                    from: 1; to: 1024; editable: true
                    value: inspector.doc.parallelism
                    onValueModified: inspector.doc.parallelism = value
                }
            }
            ListView {
                objectName: "jobSettings"
                visible: !inspector.showNode && !inspector.showEdge && inspector.doc.inspector.jobMode
                Layout.fillWidth: true
                Layout.preferredHeight: contentHeight
                interactive: false
                model: inspector.doc.inspector
                delegate: ParamRow {
                    doc: inspector.doc
                    nodeId: ""
                    // Checkpoints and restarts both work (docs/fault-tolerance.md); a setting the
                    // engine cannot honour yet would be shown disabled here, marked so.
                    available: inspector.faultToleranceAvailable
                    focused: inspector.doc.inspector.focusPath !== "" && inspector.doc.inspector.focusPath === path
                }
            }
            ColumnLayout {
                visible: !inspector.showNode && !inspector.showEdge
                Layout.fillWidth: true
                Layout.margins: 12
                Label {
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    font.pixelSize: 11
                    color: Theme.textMuted
                    text: inspector.doc.nodes.count + " nodes, " + inspector.doc.edges.count + " edges. " +
                          "Select a node to edit its parameters, or an edge's middle handle to see its schema."
                }
            }
        }
    }
}
