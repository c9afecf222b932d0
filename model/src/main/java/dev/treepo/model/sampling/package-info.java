/** Drawing the next token from logits: temperature, top-k and top-p with a seeded generator. */
package dev.treepo.model.sampling;
