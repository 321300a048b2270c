"""The vendor side of the hub: a publisher library and adapters that turn what vendors have
(a web form's webhook, ...) into intents.

    adapters.publisher   VendorPublisher: publisher confirms, re-send after reconnects, outcomes
    adapters.forms       the online-forms webhook receiver (``hub forms``)

Nothing here imports the hub's writer or the Open Dental simulator: a vendor needs only this
package and ``contracts``.
"""
